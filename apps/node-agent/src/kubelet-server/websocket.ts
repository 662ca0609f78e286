import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

/** RFC 6455's GUID: the server proves it read the key by hashing it with this. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Far above any exec frame (client-go writes at most 32 KiB): a larger one is a broken or hostile peer. */
const MAX_FRAME = 16 * 1024 * 1024;

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

export function newClientKey(): string {
  return randomBytes(16).toString('base64');
}

/** One frame, FIN set (exec never needs to fragment what it sends); masked as a client must, unmasked as a server. */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  key.copy(head, 2 + ext);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([head, body]);
}

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Splits a byte stream into frames (unmasked); partial frames wait for more bytes. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    for (;;) {
      if (this.buf.length < 2) return out;
      const b0 = this.buf[0];
      const b1 = this.buf[1];
      let len = b1 & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return out;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return out;
        const big = this.buf.readBigUInt64BE(2);
        if (big > BigInt(MAX_FRAME)) throw new Error(`websocket frame of ${big} bytes is too large`);
        len = Number(big);
        at = 10;
      }
      if (len > MAX_FRAME) throw new Error(`websocket frame of ${len} bytes is too large`);
      const masked = (b1 & 0x80) !== 0;
      const end = at + (masked ? 4 : 0) + len;
      if (this.buf.length < end) return out;
      const payload = Buffer.from(this.buf.subarray(end - len, end));
      if (masked) {
        const key = this.buf.subarray(at, at + 4);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      out.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload });
      this.buf = this.buf.subarray(end);
    }
  }
}

/**
 * A websocket over an upgraded socket: whole messages in (fragments joined, pings answered), binary messages out.
 * Emits 'message' (Buffer), 'drain' when what `send` buffered is written, and 'close' once (the peer's close, the
 * socket's end or an error).
 */
export class WebSocketConn extends EventEmitter {
  private readonly decoder = new FrameDecoder();
  private fragments: Buffer[] = [];
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    /** A client masks what it sends; a server does not. */
    private readonly isClient: boolean,
    head?: Buffer,
  ) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.emit('drain'));
    socket.on('end', () => this.finish());
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
    if (head?.length) setImmediate(() => this.receive(head));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(data: Buffer): boolean {
    if (this.closed) return false;
    return this.socket.write(encodeFrame(OP_BINARY, data, this.isClient));
  }

  /** Stops (and starts again) reading the peer's messages: back-pressure toward the peer. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Sends a close frame (1000, normal) and ends the socket once it is written. */
  close(code = 1000): void {
    if (this.closed) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.end(encodeFrame(OP_CLOSE, payload, this.isClient));
    this.finish();
  }

  destroy(): void {
    this.socket.destroy();
    this.finish();
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.destroy();
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      if (f.opcode === OP_PING) this.socket.write(encodeFrame(OP_PONG, f.payload, this.isClient));
      else if (f.opcode === OP_CLOSE) this.close();
      else if (f.opcode === OP_TEXT || f.opcode === OP_BINARY || f.opcode === OP_CONTINUATION) {
        this.fragments.push(f.payload);
        if (f.fin) {
          const message = Buffer.concat(this.fragments);
          this.fragments = [];
          this.emit('message', message);
        }
      }
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}
