import * as dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import * as net from 'node:net';
import type { LoadBalancerPort } from '@cerulean/node-provider';
import { jsonLog } from '../server';

// The contract with the worker (libs/node-provider/src/load-balancer.ts), repeated: the agent bundle takes only types
// from @cerulean/node-provider, whose index pulls in dockerode (and its native ssh2 parts esbuild cannot bundle).
export const PORTS_ENV = 'CERULEAN_LB_PORTS';
export const TARGET_ENV = 'CERULEAN_LB_TARGET';
export const NODES_ALIAS = 'cerulean-nodes';

/** The ports a load-balancer container forwards, parsed strictly (the program refuses to start on anything else). */
export function parseLoadBalancerPorts(text: string | undefined): LoadBalancerPort[] {
  const parsed: unknown = JSON.parse(text ?? '[]');
  if (!Array.isArray(parsed)) throw new Error(`${PORTS_ENV} is not a list`);
  return parsed.map((p: unknown, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    const okPort = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;
    if ((o.protocol !== 'TCP' && o.protocol !== 'UDP') || !okPort(o.port) || !okPort(o.nodePort))
      throw new Error(`${PORTS_ENV}[${i}] is not a TCP or UDP port with a node port`);
    return { name: typeof o.name === 'string' ? o.name : '', protocol: o.protocol, port: o.port as number, nodePort: o.nodePort as number };
  });
}

/** A node that neither accepts nor refuses (paused, overloaded) costs a connection this long before the next is tried. */
export const CONNECT_TIMEOUT_MS = 3_000;
/** Accepted connections waiting for a backend or being copied; more are refused at once instead of queueing in memory. */
export const MAX_CONNECTIONS = 4_096;
/** A UDP flow (one client address and port) with no datagram either way for this long is forgotten. */
export const UDP_IDLE_MS = 30_000;
/** UDP flows at once; datagrams of further new flows are dropped (UDP may drop) rather than opening more sockets. */
export const MAX_UDP_FLOWS = 1_024;
/** Datagrams of a new flow held while its node is looked up; more are dropped. */
const UDP_PENDING_MAX = 16;

export type Resolve = (name: string) => Promise<string[]>;

/** Every IPv4 address Docker's DNS gives for `name` right now (none when the name is unknown: no node runs). */
export const resolveAll: Resolve = async (name) => {
  try {
    return (await dns.lookup(name, { all: true, family: 4 })).map((a) => a.address);
  } catch {
    return [];
  }
};

/** The addresses in a random order, so connections spread over the nodes (kube-proxy spreads them again over the pods). */
export function shuffled<T>(items: T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A connected socket to `host:port`, or an error after `timeoutMs`. */
export function connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/** The first node (of the addresses `target` resolves to, tried in random order) that accepts a connection to `port`. */
export async function connectToAnyNode(target: string, port: number, resolve: Resolve, timeoutMs = CONNECT_TIMEOUT_MS): Promise<net.Socket> {
  const addresses = shuffled(await resolve(target));
  if (addresses.length === 0) throw new Error(`${target} resolves to no address (no node is running)`);
  const failures: string[] = [];
  for (const address of addresses) {
    try {
      return await connect(address, port, timeoutMs);
    } catch (err) {
      failures.push(`${address}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no node accepted the connection: ${failures.join('; ')}`);
}

/**
 * Copies both ways until both sides are done. pipe() applies backpressure (a slow reader pauses the other side), so no
 * more than a socket's buffers is ever held; half-closes pass through; an error on either side ends both.
 */
export function splice(client: net.Socket, upstream: net.Socket): void {
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.pipe(upstream);
  upstream.pipe(client);
  client.resume();
}

/**
 * One listener for a Service port: each accepted connection waits (paused: nothing is read before a backend is
 * there) for a node that accepts `<node>:<nodePort>`, then is spliced to it. Targets are looked up by name on every
 * connection rather than passed in: the nodes of a cluster change (scale, upgrade, repair, stop) and Docker's DNS
 * always knows the running ones, so the worker never has to rewrite or restart a load balancer for that.
 */
export function listen(port: LoadBalancerPort, target: string, resolve: Resolve = resolveAll, log = jsonLog): net.Server {
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    const peer = `${client.remoteAddress ?? '?'}:${client.remotePort ?? '?'}`;
    client.on('error', () => client.destroy());
    connectToAnyNode(target, port.nodePort, resolve).then(
      (upstream) => {
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        splice(client, upstream);
      },
      (err: unknown) => {
        log({ msg: 'no backend', port: port.port, nodePort: port.nodePort, peer, err: (err as Error).message });
        client.destroy();
      },
    );
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.listen(port.port, '0.0.0.0');
  return server;
}

interface UdpFlow {
  upstream: dgram.Socket;
  timer: NodeJS.Timeout;
  /** Datagrams that came before the upstream socket was connected; undefined once it is. */
  pending?: Buffer[];
}

/**
 * One UDP listener for a Service port. UDP has no handshake to try nodes with: each flow (client address and port) gets
 * its own socket connected to a node picked at random when the flow starts, and replies come back through the
 * listener to that client. A node that answers ICMP port-unreachable ends the flow, so its next datagram picks again.
 * Closing the listener ends every flow.
 */
export function listenUdp(port: LoadBalancerPort, target: string, resolve: Resolve = resolveAll, log = jsonLog, idleMs = UDP_IDLE_MS): dgram.Socket {
  const server = dgram.createSocket('udp4');
  const flows = new Map<string, UdpFlow>();
  const end = (key: string, flow: UdpFlow) => {
    if (flows.get(key) !== flow) return;
    flows.delete(key);
    clearTimeout(flow.timer);
    try {
      flow.upstream.close();
    } catch {
      // already closed
    }
  };
  const touch = (key: string, flow: UdpFlow) => {
    clearTimeout(flow.timer);
    flow.timer = setTimeout(() => end(key, flow), idleMs);
  };
  server.on('message', (msg, client) => {
    const key = `${client.address}:${client.port}`;
    const existing = flows.get(key);
    if (existing) {
      touch(key, existing);
      if (!existing.pending) existing.upstream.send(msg);
      else if (existing.pending.length < UDP_PENDING_MAX) existing.pending.push(msg);
      return;
    }
    if (flows.size >= MAX_UDP_FLOWS) return;
    const flow: UdpFlow = { upstream: dgram.createSocket('udp4'), timer: setTimeout(() => end(key, flow), idleMs), pending: [msg] };
    flows.set(key, flow);
    flow.upstream.on('message', (reply) => {
      touch(key, flow);
      server.send(reply, client.port, client.address);
    });
    flow.upstream.on('error', () => end(key, flow));
    void resolve(target).then((addresses) => {
      if (flows.get(key) !== flow) return;
      const [address] = shuffled(addresses);
      if (!address) {
        log({ msg: 'no backend', port: port.port, protocol: 'UDP', nodePort: port.nodePort, peer: key, err: `${target} resolves to no address` });
        end(key, flow);
        return;
      }
      flow.upstream.connect(port.nodePort, address, () => {
        for (const m of flow.pending ?? []) flow.upstream.send(m);
        flow.pending = undefined;
      });
    });
  });
  // A closed listener has no client to answer: its flows end at once, not at their idle timeouts.
  server.on('close', () => {
    for (const [key, flow] of [...flows]) end(key, flow);
  });
  server.bind(port.port, '0.0.0.0');
  return server;
}

/** The load-balancer container's program (CERULEAN_ROLE=load-balancer): one listener per Service port, TCP or UDP. */
export function runLoadBalancer(env: NodeJS.ProcessEnv = process.env): (net.Server | dgram.Socket)[] {
  const ports = parseLoadBalancerPorts(env[PORTS_ENV]);
  const target = env[TARGET_ENV]?.trim() || NODES_ALIAS;
  const servers = ports.map((p) => {
    const server = p.protocol === 'UDP' ? listenUdp(p, target) : listen(p, target);
    let listening = false;
    server.on('listening', () => {
      listening = true;
      jsonLog({ msg: 'load balancer listening', port: p.port, protocol: p.protocol, target: `${target}:${p.nodePort}` });
    });
    // A port it cannot listen on ends the program (Docker restarts it); a later error (a reply that cannot be sent) does not.
    server.on('error', (err: Error) => {
      jsonLog({ msg: listening ? 'socket error' : 'listen failed', port: p.port, protocol: p.protocol, err: err.message });
      if (!listening) process.exit(1);
    });
    return server;
  });
  // Node as PID 1 ignores SIGTERM: without this, `docker stop` waits its full 10 s.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
  return servers;
}
