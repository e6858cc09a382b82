// The part of autocannon's programmatic API the bench uses (it ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  import type net from 'node:net';

  export interface Histogram {
    average: number;
    p50: number;
    p99: number;
    max: number;
  }

  export interface Result {
    requests: Histogram & { sent: number; total: number };
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    mismatches: number;
    '2xx': number;
    duration: number;
  }

  /** One connection's client (lib/httpClient.js); the bench wraps two of its methods. */
  export interface Client extends EventEmitter {
    conn: net.Socket | undefined;
    destroyed: boolean;
    parser: { type: string; initialize(type: string): void };
    pipelinedRequests: { clear(): void };
    _connect(): void;
    _doRequest(): void;
  }

  export interface Options {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Seconds. */
    timeout?: number;
    setupClient?: (client: Client) => void;
  }

  export interface Instance extends EventEmitter {
    stop(): void;
  }

  export default function autocannon(
    opts: Options,
    cb: (err: Error | null, result: Result) => void,
  ): Instance;
}
