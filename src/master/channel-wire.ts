// Node's IPC wire formats, as the master reads and writes them on a worker's channel: 'json'
// (one JSON text a line) and 'advanced' (a 4-byte big-endian length, then V8's serialization,
// with Node's tags for typed arrays and host objects). The worker's end is Node's own channel;
// the master's end decodes with bounds of its own, so a line or frame longer than the bound, or
// one that does not parse, is a problem reported in words, never a throw or a string that grows
// without end (Node's own parser throws from inside its read callback, which kills the process).
import { isUtf8 } from 'node:buffer';
import v8 from 'node:v8';
import { isJsonText } from './json-syntax.js';

export type Serialization = 'json' | 'advanced';

/** What the decoder hands on: a message and how many bytes it took on the wire. */
export type OnFrame = (message: unknown, bytes: number) => boolean;

/** The violation of a message of Node's (or overseer's) longer than the contract's bound. */
export function contractTooLong(bytes: number, max: number, cmd?: string): string {
  return `sent a contract message of ${bytes} bytes (${cmd === undefined ? '' : `${cmd}; `}at most ${max})`;
}

/**
 * Node writes its own messages with `cmd` first: `{"cmd":"NODE_…` as JSON, and as V8's
 * serialization the header (0xFF, a version byte), an object ('o'), the one-byte string
 * "cmd" ('"', 3) and a one-byte string ('"', its length) that starts with NODE_.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the length byte of V8's "cmd" is 3
const NODE_HEAD = { json: /^\{"cmd":"NODE_/, advanced: /^\xff.o"\x03cmd".NODE_/s } as const;
/** A message with a handle: `cmd` is NODE_HANDLE itself (11 bytes long), not NODE_HANDLE_ACK or _NACK. */
const HANDLE_HEAD = {
  json: /^\{"cmd":"NODE_HANDLE"[,}]/,
  // biome-ignore lint/suspicious/noControlCharactersInRegex: V8's length bytes (3, 11)
  advanced: /^\xff.o"\x03cmd"\x0bNODE_HANDLE/s,
} as const;

/**
 * What a message sent with a handle is handed on as: its cmd alone. Its handle cannot reach the
 * master (libuv's plain read drops SCM_RIGHTS), so all the master does is NACK it, for which Node's
 * protocol needs nothing of the message; the program's message in it (up to the frame bound) is
 * never decoded, and never delivered, heard or not.
 */
export const HANDLE_MESSAGE: Readonly<{ cmd: 'NODE_HANDLE' }> = Object.freeze({ cmd: 'NODE_HANDLE' });

/** How much of a frame left undecoded has its JSON syntax checked (all of it, up to this). */
const SYNTAX_SCAN_BYTES = 64 * 1024;
/** The first byte of V8's serialization (its header's version tag). */
const V8_HEADER = 0xff;

const NEWLINE = 0x0a;
const LENGTH_BYTES = 4;
const INITIAL_CAPACITY = 64 * 1024;

/**
 * Bytes read but not yet decoded, in one buffer that grows to at most the frame bound and
 * shrinks again once emptied: what a worker can make the master hold is that bound, whatever
 * the size of the chunks it arrives in. Nothing handed on aliases it (a message is decoded from
 * a copy), so its bytes move freely.
 */
class Pending {
  #buf = Buffer.alloc(0);
  #start = 0;
  length = 0;

  append(chunk: Buffer): void {
    const need = this.length + chunk.length;
    if (this.#start + need > this.#buf.length) {
      const target =
        need > this.#buf.length
          ? Buffer.allocUnsafe(Math.max(need, this.#buf.length * 2, INITIAL_CAPACITY))
          : this.#buf;
      this.#buf.copy(target, 0, this.#start, this.#start + this.length);
      this.#buf = target;
      this.#start = 0;
    }
    chunk.copy(this.#buf, this.#start + this.length);
    this.length = need;
  }

  view(): Buffer {
    return this.#buf.subarray(this.#start, this.#start + this.length);
  }

  /** Drops the first `n` bytes. */
  consume(n: number): void {
    this.#start += n;
    this.length -= n;
    if (this.length > 0) return;
    this.#start = 0;
    if (this.#buf.length > INITIAL_CAPACITY) this.#buf = Buffer.alloc(0);
  }
}

/** Node's serializer for 'advanced' (lib/internal/child_process/serialization.js), from public v8 APIs. */
const ARRAY_BUFFER_VIEW = 0;
const NOT_ARRAY_BUFFER_VIEW = 1;
type HostObjects = { _writeHostObject(o: object): void; _readHostObject(): unknown };
const defaultWrite = (v8.DefaultSerializer.prototype as unknown as HostObjects)._writeHostObject;
const defaultRead = (v8.DefaultDeserializer.prototype as unknown as HostObjects)._readHostObject;

class Serializer extends v8.DefaultSerializer {
  _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(ARRAY_BUFFER_VIEW);
      defaultWrite.call(this, object);
      return;
    }
    this.writeUint32(NOT_ARRAY_BUFFER_VIEW);
    this.writeValue({ ...object });
  }
}

class Deserializer extends v8.DefaultDeserializer {
  _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === ARRAY_BUFFER_VIEW) return defaultRead.call(this);
    if (tag !== NOT_ARRAY_BUFFER_VIEW) throw new Error(`unknown host object tag ${tag}`);
    return this.readValue();
  }
}

/** One message as it goes on the wire (throws as Node's own send does for what it cannot encode). */
export function encode(serialization: Serialization, message: unknown): Buffer {
  if (serialization === 'json') return Buffer.from(`${JSON.stringify(message)}\n`);
  const ser = new Serializer();
  ser.writeRawBytes(Buffer.alloc(LENGTH_BYTES));
  ser.writeHeader();
  ser.writeValue(message);
  const frame = ser.releaseBuffer();
  frame.writeUInt32BE(frame.length - LENGTH_BYTES, 0);
  return frame;
}

/**
 * Decodes what a worker writes, a chunk at a time. `push` hands each whole message to `onFrame`
 * (which returns false to stop), and returns what is wrong with the stream, if anything; after a
 * problem the decoder takes nothing more.
 */
export class Decoder {
  readonly #pending = new Pending();
  #broken = false;

  constructor(
    readonly serialization: Serialization,
    /** The longest message, in bytes on the wire (a json line without its newline; an advanced frame's body). */
    readonly maxBytes: number,
    /**
     * Whether a message of the program's would be heard (the master's 'message' listeners). A
     * frame longer than any of the contract's (`contractBytes`) is not decoded where none
     * would: decoded, a few bytes of a value can take a hundred times their size on the heap.
     */
    readonly heard: () => boolean = () => true,
    readonly contractBytes = Number.POSITIVE_INFINITY,
  ) {}

  /**
   * What to do with a whole frame before decoding it: 'decode', 'skip' (a long message of the
   * program's that nobody would hear), 'handle' (a message sent with a handle: HANDLE_MESSAGE,
   * undecoded, whatever its size), or the problem (a long one of Node's, over the contract's
   * bound: no need to decode it to know). Node's own messages name their `cmd` ('NODE_…') first.
   */
  #triage(frame: Buffer, wireBytes: number): 'decode' | 'skip' | 'handle' | string {
    const head = frame.subarray(0, 32).toString('latin1');
    if (HANDLE_HEAD[this.serialization].test(head))
      return this.#mayBeMessage(frame) ? 'handle' : this.#malformed();
    if (frame.length <= this.contractBytes || this.heard()) return 'decode';
    if (!NODE_HEAD[this.serialization].test(head))
      return this.#mayBeMessage(frame) ? 'skip' : this.#malformed();
    return contractTooLong(wireBytes, this.contractBytes);
  }

  /**
   * Whether a frame left undecoded can be a message at all, from checks that build nothing: V8's
   * header; or valid UTF-8 (all Node writes is) whose JSON syntax holds (its first
   * SYNTAX_SCAN_BYTES). Otherwise it is garbage, and would swallow the message it ran into.
   */
  #mayBeMessage(frame: Buffer): boolean {
    if (this.serialization === 'advanced') return frame[0] === V8_HEADER;
    if (frame.length <= SYNTAX_SCAN_BYTES) return isUtf8(frame) && isJsonText(frame);
    return isUtf8(frame) && isJsonText(frame.subarray(0, SYNTAX_SCAN_BYTES), true);
  }

  #malformed(): string {
    return this.serialization === 'json'
      ? 'sent a malformed message (not one JSON text a line)'
      : 'sent a malformed message (not a V8-serialized value)';
  }

  push(chunk: Buffer, onFrame: OnFrame): string | undefined {
    if (this.#broken) return undefined;
    const problem =
      this.serialization === 'json' ? this.#pushJson(chunk, onFrame) : this.#pushAdvanced(chunk, onFrame);
    if (problem !== undefined) {
      this.#broken = true;
      this.#pending.consume(this.#pending.length);
    }
    return problem;
  }

  #tooLong(): string {
    return `sent a message longer than ${this.maxBytes} bytes`;
  }

  #pushJson(chunk: Buffer, onFrame: OnFrame): string | undefined {
    const pending = this.#pending;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0) {
        if (pending.length + chunk.length - start > this.maxBytes) return this.#tooLong();
        pending.append(chunk.subarray(start));
        return undefined;
      }
      let line = chunk.subarray(start, nl);
      if (pending.length + line.length > this.maxBytes) return this.#tooLong();
      if (pending.length > 0) {
        pending.append(line);
        line = pending.view();
      }
      start = nl + 1;
      const triage = this.#triage(line, line.length + 1);
      if (triage !== 'decode') {
        if (triage !== 'skip' && triage !== 'handle') return triage;
        pending.consume(pending.length);
        if (triage === 'handle' && !onFrame(HANDLE_MESSAGE, line.length + 1)) return undefined;
        continue;
      }
      let message: unknown;
      try {
        message = JSON.parse(line.toString('utf8'));
      } catch {
        return this.#malformed();
      }
      pending.consume(pending.length);
      if (!onFrame(message, line.length + 1)) return undefined;
    }
  }

  #pushAdvanced(chunk: Buffer, onFrame: OnFrame): string | undefined {
    const pending = this.#pending;
    pending.append(chunk);
    while (pending.length >= LENGTH_BYTES) {
      const body = pending.view().readUInt32BE(0);
      if (body > this.maxBytes) return this.#tooLong();
      const size = LENGTH_BYTES + body;
      if (pending.length < size) return undefined;
      const triage = this.#triage(pending.view().subarray(LENGTH_BYTES, size), size);
      if (triage !== 'decode') {
        if (triage !== 'skip' && triage !== 'handle') return triage;
        pending.consume(size);
        if (triage === 'handle' && !onFrame(HANDLE_MESSAGE, size)) return undefined;
        continue;
      }
      let message: unknown;
      try {
        const de = new Deserializer(Buffer.from(pending.view().subarray(LENGTH_BYTES, size)));
        de.readHeader();
        message = de.readValue();
      } catch {
        return this.#malformed();
      }
      pending.consume(size);
      if (!onFrame(message, size)) return undefined;
    }
    return undefined;
  }
}
