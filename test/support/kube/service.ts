// A Service as kube-proxy makes one, on loopback: a TCP proxy that sends each new connection to
// the next ready endpoint in turn (round robin) and keeps an established connection on its pod
// (as conntrack does) until either side closes it. The endpoints follow each pod's readiness, as
// its kubelet's readinessProbe reports it, `propagationMs` late (the endpoints controller's
// update and kube-proxy's sync). A connection that its pod refuses or resets is reset toward the
// client too, as a DNATed one would be.
import net from 'node:net';
import type { Pod } from './pod.js';

/**
 * An RST to the client, where it has not had a FIN already. (Node's resetAndDestroy() on a socket
 * that is shutting down fails, and leaves a handle that never closes: the process spins at exit.)
 */
function reset(socket: net.Socket): void {
  if (socket.writableEnded || socket.destroyed) socket.destroy();
  else socket.resetAndDestroy();
}

export interface EndpointStats {
  /** Connections sent to it. */
  connections: number;
  /** Of those, connections it refused or reset. */
  failed: number;
  /** When it was taken out of the endpoints (Date.now()). */
  removedAt: number | undefined;
}

export class Service {
  /** The endpoints new connections go to, in order. */
  readonly endpoints: Pod[] = [];
  readonly stats = new Map<Pod, EndpointStats>();
  /** Connections that found no endpoint. */
  noEndpoint = 0;
  readonly #targetPort: (pod: Pod) => number;
  readonly #propagationMs: number;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #next = 0;

  constructor(targetPort: (pod: Pod) => number, propagationMs: number) {
    this.#targetPort = targetPort;
    this.#propagationMs = propagationMs;
    this.#server = net.createServer((client) => this.#route(client));
  }

  /** Follows `pod`'s readiness from now on. */
  watch(pod: Pod): void {
    this.stats.set(pod, { connections: 0, failed: 0, removedAt: undefined });
    pod.on('ready', (ready) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        const at = this.endpoints.indexOf(pod);
        if (ready && at < 0) this.endpoints.push(pod);
        if (!ready && at >= 0) {
          this.endpoints.splice(at, 1);
          this.stats.get(pod)!.removedAt = Date.now();
        }
      }, this.#propagationMs);
      this.#timers.add(timer);
    });
  }

  #route(client: net.Socket): void {
    this.#track(client);
    const pod = this.endpoints[this.#next++ % Math.max(1, this.endpoints.length)];
    if (pod === undefined) {
      this.noEndpoint++;
      reset(client);
      return;
    }
    const stats = this.stats.get(pod)!;
    stats.connections++;
    const upstream = net.connect(this.#targetPort(pod), '127.0.0.1');
    this.#track(upstream);
    upstream.on('error', () => {
      stats.failed++;
      reset(client);
    });
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }

  /** Listens on 127.0.0.1 (its cluster IP); resolves with the port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Until the endpoints are exactly `pods` (in any order). */
  async settle(pods: Pod[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const same = (): boolean =>
      this.endpoints.length === pods.length && pods.every((p) => this.endpoints.includes(p));
    while (!same()) {
      if (Date.now() > deadline) {
        throw new Error(
          `endpoints are [${this.endpoints.map((p) => p.name)}], not [${pods.map((p) => p.name)}]`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#server.close();
    for (const s of this.#sockets) s.destroy();
  }
}
