import { PassThrough } from 'node:stream';
import { acceptKey, encodeFrame, FrameDecoder, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, WebSocketConn } from './websocket';

describe('websocket framing', () => {
  it("answers RFC 6455's sample key", () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it.each([0, 5, 125, 126, 65535, 65536, 200_000])('round-trips a %i byte payload, masked and not', (size) => {
    const payload = Buffer.alloc(size, 7).fill(3, 0, Math.floor(size / 2));
    for (const mask of [false, true]) {
      const bytes = encodeFrame(OP_BINARY, payload, mask);
      expect((bytes[1] & 0x80) !== 0).toBe(mask);
      expect(new FrameDecoder().push(bytes)).toEqual([{ fin: true, opcode: OP_BINARY, payload }]);
    }
  });

  it('waits for the rest of a frame cut anywhere, and splits frames that share a chunk', () => {
    const a = encodeFrame(OP_BINARY, Buffer.from('\x01hello'), true);
    const b = encodeFrame(OP_TEXT, Buffer.alloc(300, 'x'), true);
    const all = Buffer.concat([a, b]);
    for (let cut = 1; cut < all.length; cut += 7) {
      const d = new FrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => [f.opcode, f.payload.length])).toEqual([
        [OP_BINARY, 6],
        [OP_TEXT, 300],
      ]);
    }
  });

  it('refuses a frame announcing more than 16 MiB', () => {
    const head = Buffer.from([0x82, 127, 0, 0, 0, 0, 0x10, 0, 0, 1]);
    expect(() => new FrameDecoder().push(head)).toThrow(/too large/);
  });
});

describe('WebSocketConn', () => {
  it('joins fragments into one message, answers pings and closes on a close frame', () => {
    const wire = new PassThrough();
    const written: Buffer[] = [];
    wire.write = ((chunk: Buffer) => {
      written.push(chunk);
      return true;
    }) as never;
    wire.end = ((chunk?: Buffer) => {
      if (chunk) written.push(chunk);
      return wire;
    }) as never;
    const conn = new WebSocketConn(wire, false);
    const messages: Buffer[] = [];
    let closed = 0;
    conn.on('message', (m: Buffer) => messages.push(m));
    conn.on('close', () => closed++);
    const first = encodeFrame(OP_BINARY, Buffer.from([1, 65]), true);
    first[0] &= 0x7f; // not FIN: a continuation follows
    wire.emit('data', Buffer.concat([first, encodeFrame(OP_PING, Buffer.from('p'), true), encodeFrame(0, Buffer.from('BC'), true)]));
    expect(messages).toEqual([Buffer.from([1, 65, 66, 67])]);
    expect(new FrameDecoder().push(written[0])).toEqual([{ fin: true, opcode: OP_PONG, payload: Buffer.from('p') }]);
    wire.emit('data', encodeFrame(OP_CLOSE, Buffer.from([3, 232]), true));
    expect(closed).toBe(1);
    expect(new FrameDecoder().push(written[1])[0].opcode).toBe(OP_CLOSE);
    expect(conn.send(Buffer.from('late'))).toBe(false);
  });
});
