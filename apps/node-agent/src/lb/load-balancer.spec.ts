import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { once } from 'node:events';
import { LoadBalancerEnv, NODES_ALIAS as WORKER_NODES_ALIAS } from '@cerulean/node-provider';
import { connectToAnyNode, listen, listenUdp, NODES_ALIAS, parseLoadBalancerPorts, PORTS_ENV, shuffled, TARGET_ENV } from './load-balancer';

/** A real TCP server on the loopback that answers `echo:<what it got>` once the client half-closes. */
async function echoServer(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('end', () => s.end(`echo:${got}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** A real UDP server on the loopback that answers each datagram with `echo:<datagram>`. */
async function udpEchoServer(): Promise<dgram.Socket> {
  const backend = dgram.createSocket('udp4');
  backend.on('message', (m, from) => backend.send(`echo:${m.toString()}`, from.port, from.address));
  backend.bind(0, '127.0.0.1');
  await once(backend, 'listening');
  return backend;
}

async function exchange(port: number, text: string): Promise<string> {
  const c = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(c, 'connect');
  c.end(text);
  let reply = '';
  c.on('data', (d: Buffer) => (reply += d.toString()));
  await once(c, 'close');
  return reply;
}

describe('load balancer program', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  /** A UDP listener of the program in front of an echo server (closed after the test; the listener is the test's). */
  const udpBalancer = async (idleMs?: number): Promise<dgram.Socket> => {
    const backend = await udpEchoServer();
    closers.push(() => backend.close());
    const lb = listenUdp(
      { name: '', protocol: 'UDP', port: 0, nodePort: backend.address().port },
      'nodes',
      async () => ['127.0.0.1'],
      () => undefined,
      idleMs,
    );
    await once(lb, 'listening');
    return lb;
  };

  it('forwards a connection to the node port of a node that accepts, after one that refuses, with half-close passed on', async () => {
    const backend = await echoServer();
    closers.push(() => backend.server.close());
    // 127.0.0.2 listens on nothing at this port (the loopback /8 refuses at once); 127.0.0.1 has the backend.
    const lb = listen(
      { name: '', protocol: 'TCP', port: 0, nodePort: backend.port },
      'nodes',
      async (name) => (name === 'nodes' ? ['127.0.0.2', '127.0.0.1'] : []),
      () => undefined,
    );
    closers.push(() => lb.close());
    await once(lb, 'listening');
    const port = (lb.address() as net.AddressInfo).port;
    for (let i = 0; i < 4; i++) expect(await exchange(port, `hello ${i}`)).toBe(`echo:hello ${i}`);
  });

  it('closes the client when no node resolves or none accepts', async () => {
    const logged: Record<string, unknown>[] = [];
    const lb = listen(
      { name: '', protocol: 'TCP', port: 0, nodePort: 1 },
      'nodes',
      async () => [],
      (e) => logged.push(e),
    );
    closers.push(() => lb.close());
    await once(lb, 'listening');
    expect(await exchange((lb.address() as net.AddressInfo).port, 'x')).toBe('');
    expect(logged[0]).toMatchObject({ msg: 'no backend' });
    await expect(connectToAnyNode('nodes', 1, async () => ['127.0.0.1'], 1000)).rejects.toThrow(/no node accepted/);
  });

  it('shuffles without losing or duplicating an address', () => {
    const items = ['a', 'b', 'c', 'd'];
    expect(shuffled(items, () => 0).sort()).toEqual(items);
    expect(shuffled(items, () => 0)).toEqual(['b', 'c', 'd', 'a']);
  });

  it('parses the load balancer program environment strictly', () => {
    expect(parseLoadBalancerPorts('[{"name":"http","protocol":"TCP","port":80,"nodePort":31000}]')).toEqual([
      { name: 'http', protocol: 'TCP', port: 80, nodePort: 31000 },
    ]);
    expect(parseLoadBalancerPorts('[{"protocol":"UDP","port":53,"nodePort":31000}]')).toEqual([{ name: '', protocol: 'UDP', port: 53, nodePort: 31000 }]);
    expect(() => parseLoadBalancerPorts('[{"protocol":"SCTP","port":53,"nodePort":31000}]')).toThrow(/TCP or UDP/);
    expect(() => parseLoadBalancerPorts('[{"protocol":"TCP","port":80}]')).toThrow(/node port/);
    expect(() => parseLoadBalancerPorts('{}')).toThrow(/list/);
  });

  it('reads what the worker writes', () => {
    expect([PORTS_ENV, TARGET_ENV, NODES_ALIAS]).toEqual([LoadBalancerEnv.ports, LoadBalancerEnv.target, WORKER_NODES_ALIAS]);
  });

  it('forwards UDP datagrams to the node port and the replies back to each client', async () => {
    const lb = await udpBalancer();
    closers.push(() => lb.close());
    const ask = async (text: string): Promise<string> => {
      const c = dgram.createSocket('udp4');
      try {
        c.send(text, lb.address().port, '127.0.0.1');
        const [reply] = (await once(c, 'message')) as [Buffer];
        return reply.toString();
      } finally {
        c.close();
      }
    };
    expect(await ask('one')).toBe('echo:one');
    expect(await ask('two')).toBe('echo:two');
  });

  it('ends its flows when the listener closes, not at their idle timeout', async () => {
    // Open UDP sockets, once those closed before (by the previous test, say) have finished closing.
    const udpSockets = async () => {
      await new Promise((r) => setTimeout(r, 20));
      return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length;
    };
    const lb = await udpBalancer(60_000);
    let listening = true;
    closers.push(() => listening && lb.close());
    const before = await udpSockets();
    const c = dgram.createSocket('udp4');
    closers.push(() => c.close());
    c.send('ping', lb.address().port, '127.0.0.1');
    await once(c, 'message');
    // The client's socket and the flow's own, to the backend.
    expect(await udpSockets()).toBe(before + 2);
    lb.close();
    listening = false;
    await once(lb, 'close');
    // The listener and the flow's socket are gone; the client's is still open.
    expect(await udpSockets()).toBe(before);
  });
});
