import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as packet from 'dns-packet';
import type { LogLine } from '../server';
import type { ClusterDnsRecords } from './records';

const FORWARD_TIMEOUT_MS = 2_000;
const UDP_MAX = 512;
/** dns-packet encodes the response code from the low bits of `flags` only. */
const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

/** The first nameserver of a resolv.conf (in a node: Docker's embedded DNS, which knows the cluster's containers). */
export function upstreamFrom(resolvConf: string): string | undefined {
  return /^\s*nameserver\s+(\S+)/m.exec(resolvConf)?.[1];
}

/**
 * Answers one query: cluster names from the records (authoritative), the rest forwarded upstream. Returns the
 * encoded response; `truncateAt` is the UDP payload limit (TC set and answers dropped when they do not fit).
 */
export async function answer(query: Buffer, records: ClusterDnsRecords, forward: (q: Buffer) => Promise<Buffer>, truncateAt?: number): Promise<Buffer> {
  let decoded: packet.DecodedPacket;
  try {
    decoded = packet.decode(query);
  } catch {
    // Not a DNS message: FORMERR needs an id we cannot read; say nothing, as CoreDNS does.
    throw new Error('malformed query');
  }
  const question = decoded.questions?.[0];
  const reply = (rcode: 'NOERROR' | 'NXDOMAIN' | 'FORMERR' | 'SERVFAIL' | 'NOTIMP', answers: packet.Answer[] = [], authoritative = true): Buffer => {
    const flags =
      (authoritative ? packet.AUTHORITATIVE_ANSWER : 0) | packet.RECURSION_AVAILABLE | ((decoded.flags ?? 0) & packet.RECURSION_DESIRED) | RCODES[rcode];
    const encoded = packet.encode({ id: decoded.id, type: 'response', flags, questions: decoded.questions, answers });
    if (truncateAt && encoded.length > truncateAt) {
      return packet.encode({
        id: decoded.id,
        type: 'response',
        flags: flags | packet.TRUNCATED_RESPONSE,
        questions: decoded.questions,
        answers: [],
      });
    }
    return encoded;
  };
  if (!question || (decoded as packet.DecodedPacket & { opcode?: string }).opcode !== 'QUERY') return reply(question ? 'NOTIMP' : 'FORMERR');
  const r = records.resolve(question.name, question.type);
  if (r.kind === 'answer') return reply('NOERROR', r.answers as packet.Answer[]);
  if (r.kind === 'nxdomain') return reply('NXDOMAIN');
  try {
    return await forward(query);
  } catch {
    return reply('SERVFAIL', [], false);
  }
}

/** Sends a query to the upstream server over UDP and resolves with its answer (same id). */
export function udpForwarder(upstream: string, port = 53): (q: Buffer) => Promise<Buffer> {
  return (query) =>
    new Promise((resolve, reject) => {
      const socket = dgram.createSocket(net.isIPv6(upstream) ? 'udp6' : 'udp4');
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error('upstream timed out'));
      }, FORWARD_TIMEOUT_MS);
      socket.once('message', (msg) => {
        clearTimeout(timer);
        socket.close();
        resolve(msg);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.close();
        reject(err);
      });
      socket.send(query, port, upstream);
    });
}

export interface ClusterDnsServer {
  close(): Promise<void>;
}

/**
 * The cluster DNS on `address`:53, UDP and TCP, as CoreDNS serves it on AKS at the cluster's dnsServiceIP: every node
 * answers for itself (the address sits on the node's loopback, like NodeLocal DNSCache), so a pod's query never leaves
 * its node and the Service needs no endpoints.
 */
export async function startClusterDns(options: {
  address: string;
  port?: number;
  records: ClusterDnsRecords;
  log: LogLine;
  /** Default: the node's own resolver (its /etc/resolv.conf), on port 53. */
  upstream?: string;
  upstreamPort?: number;
}): Promise<ClusterDnsServer> {
  const port = options.port ?? 53;
  const upstream = options.upstream ?? upstreamFrom(readFileSync('/etc/resolv.conf', 'utf8'));
  const forward = upstream ? udpForwarder(upstream, options.upstreamPort) : () => Promise.reject(new Error('no upstream DNS server'));
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    answer(msg, options.records, forward, UDP_MAX)
      .then((out) => udp.send(out, rinfo.port, rinfo.address))
      .catch(() => undefined);
  });
  const tcp = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const len = buffer.readUInt16BE(0);
        const query = buffer.subarray(2, 2 + len);
        buffer = buffer.subarray(2 + len);
        answer(query, options.records, forward)
          .then((out) => {
            const framed = Buffer.alloc(2 + out.length);
            framed.writeUInt16BE(out.length, 0);
            out.copy(framed, 2);
            socket.write(framed);
          })
          .catch(() => socket.destroy());
      }
    });
    socket.on('error', () => undefined);
    socket.setTimeout(10_000, () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, options.address, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, options.address, () => resolve());
  });
  options.log({ msg: 'cluster DNS listening', address: options.address, port, upstream });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        udp.close();
        tcp.close(() => resolve());
      }),
  };
}
