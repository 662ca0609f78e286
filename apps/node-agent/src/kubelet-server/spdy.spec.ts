import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { deflateSync, inflateSync, constants as zc } from 'node:zlib';
import {
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  HEADER_DICTIONARY,
  HeaderCodec,
  pingFrame,
  rstStreamFrame,
  SpdySession,
  SpdyStream,
  synReplyFrame,
  TYPE_GOAWAY,
  TYPE_PING,
  TYPE_RST_STREAM,
  TYPE_SYN_REPLY,
  TYPE_SYN_STREAM,
  TYPE_WINDOW_UPDATE,
  windowUpdateFrame,
  type SpdyFrame,
} from './spdy';

describe('SPDY/3 framing', () => {
  it('builds the 1423-byte SPDY/3 header dictionary', () => {
    expect(HEADER_DICTIONARY.length).toBe(1423);
    expect(HEADER_DICTIONARY.subarray(0, 11)).toEqual(Buffer.from('\x00\x00\x00\x07options', 'latin1'));
    expect(HEADER_DICTIONARY.subarray(-15).toString('latin1')).toBe('1,utf-,*,enq=0.');
  });

  it('encodes control and data frame headers as the draft lays them out', () => {
    expect(rstStreamFrame(5, 3).toString('hex')).toBe('8003000300000008' + '00000005' + '00000003');
    expect(pingFrame(7).toString('hex')).toBe('8003000600000004' + '00000007');
    expect(windowUpdateFrame(1, 65536).toString('hex')).toBe('8003000900000008' + '00000001' + '00010000');
    expect(dataFrame(3, Buffer.from('hi'), true).toString('hex')).toBe('00000003' + '01000002' + '6869');
    expect(synReplyFrame(1, Buffer.from([0xaa])).toString('hex')).toBe('8003000200000005' + '00000001' + 'aa');
  });

  it('reads frames cut anywhere and frames sharing a chunk', () => {
    const all = Buffer.concat([
      dataFrame(1, Buffer.alloc(300, 'x')),
      controlFrame(TYPE_PING, 0, Buffer.from([0, 0, 0, 1])),
      dataFrame(3, Buffer.alloc(0), true),
    ]);
    for (let cut = 1; cut < all.length; cut += 5) {
      const r = new FrameReader();
      const frames = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
      expect(frames.map(describeFrame)).toEqual(['data 1 0 300', 'control 6 0 4', 'data 3 1 0']);
    }
  });

  it('refuses another SPDY version', () => {
    const v2 = controlFrame(TYPE_PING, 0, Buffer.alloc(4));
    v2.writeUInt16BE(0x8002, 0);
    expect(() => new FrameReader().push(v2)).toThrow('unsupported SPDY version 2');
  });

  it('round-trips header blocks, lowercasing names and splitting NUL-joined values', () => {
    const block = encodeHeaderBlock({ StreamType: 'data', port: '8080', multi: ['a', 'b'] });
    expect(decodeHeaderBlock(block)).toEqual(
      new Map([
        ['streamtype', ['data']],
        ['port', ['8080']],
        ['multi', ['a', 'b']],
      ]),
    );
    expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow('truncated header block');
  });

  it('keeps one zlib context per direction across header blocks, primed with the dictionary', async () => {
    const a = new HeaderCodec();
    const b = new HeaderCodec();
    const blocks = [
      encodeHeaderBlock({ streamtype: 'error', port: '80', requestid: '0' }),
      encodeHeaderBlock({ streamtype: 'data', port: '80', requestid: '0' }),
    ];
    const wire: Buffer[] = [];
    for (const block of blocks) wire.push(await a.compress(block));
    // The second block refers back to the first: it inflates only in the same context.
    expect(wire[1].length).toBeLessThan(wire[0].length);
    expect(() => inflateSync(wire[1], { dictionary: HEADER_DICTIONARY })).toThrow();
    for (let i = 0; i < blocks.length; i++) expect(await b.decompress(wire[i])).toEqual(blocks[i]);
    // What a one-shot deflater with the dictionary writes (the peer's first block) inflates too.
    const first = deflateSync(blocks[0], { dictionary: HEADER_DICTIONARY, finishFlush: zc.Z_SYNC_FLUSH });
    expect(await new HeaderCodec().decompress(first)).toEqual(blocks[0]);
    a.close();
    b.close();
  });
});

describe('SpdySession', () => {
  /** A client's side of a real local connection: its own header context, frames read back from the server. */
  async function connect() {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const toServer = netConnect((server.address() as AddressInfo).port, '127.0.0.1');
    const session = new SpdySession(await accepted);
    server.close();
    const codec = new HeaderCodec();
    const reader = new FrameReader();
    const received: SpdyFrame[] = [];
    toServer.on('data', (c: Buffer) => received.push(...reader.push(c)));
    toServer.on('error', () => undefined);
    const synStream = async (id: number, headers: Record<string, string>, fin = false) => {
      const block = await codec.compress(encodeHeaderBlock(headers));
      const head = Buffer.alloc(10);
      head.writeUInt32BE(id, 0);
      toServer.write(controlFrame(TYPE_SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([head, block])));
    };
    return { session, toServer, received, synStream };
  }

  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('answers a stream with SYN_REPLY, passes data both ways with FIN, and grants window for what it took', async () => {
    const { session, toServer, received, synStream } = await connect();
    const streams: SpdyStream[] = [];
    session.on('stream', (s: SpdyStream) => streams.push(s));
    await synStream(1, { streamtype: 'data', port: '8080', requestid: '0' });
    await settle();
    expect(streams.map((s) => [s.id, s.header('streamtype'), s.header('port')])).toEqual([[1, 'data', '8080']]);
    expect(received.map(describeFrame)).toEqual([`control ${TYPE_SYN_REPLY} 0 ${received[0].kind === 'control' ? received[0].payload.length : 0}`]);
    const got: Buffer[] = [];
    streams[0].on('data', (c: Buffer) => got.push(c));
    toServer.write(dataFrame(1, Buffer.from('GET / HTTP/1.0\r\n\r\n'), true));
    await settle();
    expect(Buffer.concat(got).toString()).toBe('GET / HTTP/1.0\r\n\r\n');
    expect(received.slice(1).map(describeFrame)).toEqual([`control ${TYPE_WINDOW_UPDATE} 0 8`]);
    streams[0].end(Buffer.alloc(40_000, 'y'));
    await settle();
    // Written data is cut into frames of at most 32 KiB; end() is an empty frame with FIN.
    expect(received.slice(2).map(describeFrame)).toEqual(['data 1 0 32768', 'data 1 0 7232', `data 1 ${FLAG_FIN} 0`]);
    session.close();
    toServer.destroy();
  });

  it('echoes the client’s pings, resets an unknown stream, and closes on GOAWAY', async () => {
    const { session, toServer, received } = await connect();
    let closed = false;
    session.on('close', () => (closed = true));
    toServer.write(pingFrame(1));
    toServer.write(dataFrame(9, Buffer.from('x')));
    await settle();
    expect(received.map(describeFrame)).toEqual([`control ${TYPE_PING} 0 4`, `control ${TYPE_RST_STREAM} 0 8`]);
    toServer.write(controlFrame(TYPE_GOAWAY, 0, Buffer.alloc(8)));
    await settle();
    expect(closed).toBe(true);
    toServer.destroy();
  });

  it('destroys a stream the client resets, and refuses an even (server-side) stream id', async () => {
    const { session, toServer, received, synStream } = await connect();
    const streams: SpdyStream[] = [];
    session.on('stream', (s: SpdyStream) => streams.push(s));
    await synStream(1, { streamtype: 'error' });
    await synStream(2, { streamtype: 'data' });
    await settle();
    expect(streams.map((s) => s.id)).toEqual([1]);
    expect(received.map(describeFrame)[1]).toBe(`control ${TYPE_RST_STREAM} 0 8`);
    toServer.write(rstStreamFrame(1, 5));
    await settle();
    expect(streams[0].destroyed).toBe(true);
    expect(streams[0].reset).toBe(true);
    session.close();
    toServer.destroy();
  });
});

function describeFrame(f: SpdyFrame): string {
  return f.kind === 'data' ? `data ${f.streamId} ${f.flags} ${f.data.length}` : `control ${f.type} ${f.flags} ${f.payload.length}`;
}
