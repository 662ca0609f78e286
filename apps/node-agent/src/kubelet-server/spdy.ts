import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { constants as zc, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

/**
 * SPDY/3.1, as far as Kubernetes' streaming (github.com/moby/spdystream, what kubectl port-forward speaks after
 * `Upgrade: SPDY/3.1`) needs it: the server side of one upgraded connection, streams opened by the client only.
 */
export const SPDY_VERSION = 3;

export const TYPE_SYN_STREAM = 1;
export const TYPE_SYN_REPLY = 2;
export const TYPE_RST_STREAM = 3;
export const TYPE_SETTINGS = 4;
export const TYPE_PING = 6;
export const TYPE_GOAWAY = 7;
export const TYPE_HEADERS = 8;
export const TYPE_WINDOW_UPDATE = 9;

export const FLAG_FIN = 0x01;

export const RST_PROTOCOL_ERROR = 1;
export const RST_INVALID_STREAM = 2;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;

/** SPDY/3's initial per-stream window: what the peer may send before our WINDOW_UPDATE. */
export const INITIAL_WINDOW = 64 * 1024;
/** A frame's length field has 24 bits; we send at most this much data in one (as Go's io.Copy buffer). */
const MAX_DATA_CHUNK = 32 * 1024;

/**
 * The zlib dictionary SPDY/3 header blocks are compressed with (draft 3, section 2.6.10.1): the header names, each
 * after its 32-bit length, then common values as one run of text.
 */
const DICTIONARY_NAMES = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive',
  'origin',
]; // prettier-ignore
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden' +
  '404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
  'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const HEADER_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_NAMES.map((name) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(name.length);
    return Buffer.concat([len, Buffer.from(name, 'latin1')]);
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

export type SpdyFrame =
  { kind: 'data'; streamId: number; flags: number; data: Buffer } | { kind: 'control'; version: number; type: number; flags: number; payload: Buffer };

export class SpdyProtocolError extends Error {}

export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
  return Buffer.concat([head, data]);
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
};

export const synReplyFrame = (streamId: number, headerBlock: Buffer, fin = false): Buffer =>
  controlFrame(TYPE_SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), headerBlock]));
export const rstStreamFrame = (streamId: number, status: number): Buffer => controlFrame(TYPE_RST_STREAM, 0, u32(streamId & 0x7fffffff, status));
export const pingFrame = (id: number): Buffer => controlFrame(TYPE_PING, 0, u32(id));
export const goAwayFrame = (lastGoodStreamId: number, status = 0): Buffer => controlFrame(TYPE_GOAWAY, 0, u32(lastGoodStreamId & 0x7fffffff, status));
export const windowUpdateFrame = (streamId: number, delta: number): Buffer =>
  controlFrame(TYPE_WINDOW_UPDATE, 0, u32(streamId & 0x7fffffff, delta & 0x7fffffff));

/** Splits a byte stream into frames; partial frames wait for more bytes. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SpdyFrame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: SpdyFrame[] = [];
    while (this.buf.length >= 8) {
      const word = this.buf.readUInt32BE(4);
      const length = word & 0xffffff;
      if (this.buf.length < 8 + length) break;
      const flags = word >>> 24;
      const body = this.buf.subarray(8, 8 + length);
      if (this.buf[0] & 0x80) {
        const version = this.buf.readUInt16BE(0) & 0x7fff;
        if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
        out.push({ kind: 'control', version, type: this.buf.readUInt16BE(2), flags, payload: body });
      } else {
        out.push({ kind: 'data', streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data: body });
      }
      this.buf = this.buf.subarray(8 + length);
    }
    return out;
  }
}

/** The uncompressed header block: a 32-bit count, then each name and value after its 32-bit length. */
export function encodeHeaderBlock(headers: Record<string, string | string[]>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    // Several values of one name travel as one, NUL-separated.
    const v = Buffer.from(Array.isArray(value) ? value.join('\0') : value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Header names (lowercase, as SPDY requires them) to their values. */
export function decodeHeaderBlock(block: Buffer): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let off = 0;
  const take = (): Buffer => {
    if (off + 4 > block.length) throw new SpdyProtocolError('truncated header block');
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw new SpdyProtocolError('truncated header block');
    const b = block.subarray(off, off + len);
    off += len;
    return b;
  };
  if (block.length < 4) throw new SpdyProtocolError('truncated header block');
  const count = block.readUInt32BE(0);
  off = 4;
  for (let i = 0; i < count; i++) {
    const name = take().toString('utf8').toLowerCase();
    const values = take().toString('utf8').split('\0');
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}

/**
 * One zlib stream per direction for the whole connection, primed with the SPDY dictionary, each header block flushed
 * with Z_SYNC_FLUSH: a block compressed by the peer may refer to any earlier one. Calls are serialized by the caller.
 */
export class HeaderCodec {
  private readonly inflate: Inflate = createInflate({ dictionary: HEADER_DICTIONARY });
  private readonly deflate: Deflate = createDeflate({ dictionary: HEADER_DICTIONARY });

  decompress(block: Buffer): Promise<Buffer> {
    return runZlib(this.inflate, block);
  }

  compress(block: Buffer): Promise<Buffer> {
    return runZlib(this.deflate, block);
  }

  close(): void {
    this.inflate.destroy();
    this.deflate.destroy();
  }
}

function runZlib(z: Inflate | Deflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer) => chunks.push(c);
    const onError = (err: Error) => {
      z.off('data', onData);
      reject(new SpdyProtocolError(`header block: ${err.message}`));
    };
    z.on('data', onData);
    z.once('error', onError);
    z.write(input);
    // The flush's callback runs once its output is pushed: everything of this block has been read by then.
    z.flush(zc.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      z.off('error', onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * A stream the client opened, as a Duplex: what it sends is readable (ending at its FIN), what is written goes back
 * in DATA frames, end() sends our FIN. A reset from either side destroys it.
 */
export class SpdyStream extends Duplex {
  /** Whether the client ended its half (FIN) or reset the stream. */
  remoteClosed = false;
  reset = false;

  constructor(
    readonly id: number,
    readonly headers: Map<string, string[]>,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  header(name: string): string | undefined {
    return this.headers.get(name)?.[0];
  }

  override _read(): void {
    // Data is pushed as it arrives; the peer (spdystream) does no flow control we could hold it back with.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.reset) return done(new Error('stream reset'));
    this.session.sendData(this.id, chunk, false, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.reset) return done();
    this.session.sendData(this.id, Buffer.alloc(0), true, done);
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.session.forget(this.id);
    done(err);
  }

  /** Resets the stream (RST_STREAM CANCEL), as a stream is given up on. */
  cancel(status = RST_CANCEL): void {
    if (!this.reset && !this.destroyed) {
      this.reset = true;
      this.session.send(rstStreamFrame(this.id, status));
    }
    this.destroy();
  }
}

/**
 * The server end of an upgraded SPDY/3.1 connection. Emits 'stream' (a SpdyStream, already answered with SYN_REPLY)
 * and 'close'. PINGs are echoed; every DATA frame is answered with a WINDOW_UPDATE as it is handed on, so a peer that
 * keeps to the 64 KiB window never stalls. Our own sending is not held to the peer's window: spdystream does no flow
 * control (it sends no WINDOW_UPDATE), and TCP's back-pressure holds us back instead.
 */
export class SpdySession extends EventEmitter {
  private readonly reader = new FrameReader();
  private readonly codec = new HeaderCodec();
  private readonly streams = new Map<number, SpdyStream>();
  /** Frames are handled one after another: header blocks decompress asynchronously, and in order. */
  private chain: Promise<void> = Promise.resolve();
  private lastStreamId = 0;
  private closed = false;

  /** `head`: what the client sent right after its upgrade request, read with it. */
  constructor(
    private readonly socket: Duplex,
    head?: Buffer,
  ) {
    super();
    const onChunk = (chunk: Buffer) => {
      let frames: SpdyFrame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        return this.fail(err);
      }
      for (const f of frames) this.chain = this.chain.then(() => this.handle(f)).catch((err: unknown) => this.fail(err));
    };
    if (head?.length) onChunk(head);
    socket.on('data', onChunk);
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('end', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends GOAWAY and closes the connection, resetting what is still open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.socket.destroyed && this.socket.writable) this.socket.end(goAwayFrame(this.lastStreamId));
    for (const s of [...this.streams.values()]) {
      s.reset = true;
      s.destroy();
    }
    this.codec.close();
    this.emit('close');
  }

  send(frame: Buffer, done?: (err?: Error | null) => void): void {
    if (this.closed || this.socket.destroyed) return done?.(new Error('connection closed'));
    if (this.socket.write(frame) || !done) return done?.();
    this.socket.once('drain', () => done());
  }

  sendData(streamId: number, data: Buffer, fin: boolean, done: (err?: Error | null) => void): void {
    if (!data.length) return this.send(dataFrame(streamId, data, fin), done);
    let off = 0;
    const next = (err?: Error | null): void => {
      if (err) return done(err);
      if (off >= data.length) return done();
      const piece = data.subarray(off, off + MAX_DATA_CHUNK);
      off += piece.length;
      this.send(dataFrame(streamId, piece, fin && off >= data.length), next);
    };
    next();
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  private fail(err: unknown): void {
    this.emit('protocolError', err);
    if (!this.closed && !this.socket.destroyed) this.socket.write(goAwayFrame(this.lastStreamId, 1));
    this.close();
  }

  private async handle(f: SpdyFrame): Promise<void> {
    if (this.closed) return;
    if (f.kind === 'data') return this.onData(f.streamId, f.flags, f.data);
    const p = f.payload;
    switch (f.type) {
      case TYPE_SYN_STREAM: {
        if (p.length < 10) throw new SpdyProtocolError('short SYN_STREAM');
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.codec.decompress(p.subarray(10)));
        if (this.closed) return;
        // Client streams are odd and increase; anything else is refused without closing the connection.
        if (id % 2 === 0 || id <= this.lastStreamId || this.streams.has(id)) return this.send(rstStreamFrame(id, RST_PROTOCOL_ERROR));
        this.lastStreamId = id;
        const stream = new SpdyStream(id, headers, this);
        this.streams.set(id, stream);
        this.send(synReplyFrame(id, await this.codec.compress(encodeHeaderBlock({}))));
        if (f.flags & FLAG_FIN) this.remoteFin(stream);
        this.emit('stream', stream);
        return;
      }
      case TYPE_HEADERS:
        // Its block must still go through the decompressor, or the shared zlib context would fall out of step.
        if (p.length >= 4) await this.codec.decompress(p.subarray(4));
        if (f.flags & FLAG_FIN && p.length >= 4) {
          const s = this.streams.get(p.readUInt32BE(0) & 0x7fffffff);
          if (s) this.remoteFin(s);
        }
        return;
      case TYPE_SYN_REPLY:
        if (p.length >= 4) await this.codec.decompress(p.subarray(4));
        return;
      case TYPE_RST_STREAM: {
        const s = p.length >= 4 ? this.streams.get(p.readUInt32BE(0) & 0x7fffffff) : undefined;
        if (s) {
          s.remoteClosed = true;
          s.reset = true;
          s.destroy();
        }
        return;
      }
      case TYPE_PING:
        // Pings are echoed as they are; ids of our own (even) would be answers, and we send none.
        if (p.length >= 4 && p.readUInt32BE(0) % 2 === 1) this.send(controlFrame(TYPE_PING, 0, p.subarray(0, 4)));
        return;
      case TYPE_GOAWAY:
        this.close();
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and unknown types change nothing here.
        return;
    }
  }

  private onData(id: number, flags: number, data: Buffer): void {
    const s = this.streams.get(id);
    if (!s) {
      if (data.length || !(flags & FLAG_FIN)) this.send(rstStreamFrame(id, RST_INVALID_STREAM));
      return;
    }
    if (data.length) {
      if (!s.remoteClosed) s.push(data);
      this.send(windowUpdateFrame(id, data.length));
    }
    if (flags & FLAG_FIN) this.remoteFin(s);
  }

  private remoteFin(s: SpdyStream): void {
    if (s.remoteClosed) return;
    s.remoteClosed = true;
    s.push(null);
  }
}
