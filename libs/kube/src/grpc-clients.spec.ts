import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { Root } from 'protobufjs';
import { grpcClients } from './grpc-clients';

// etcd3's own definitions and options: what the bundled API server builds its etcd client from (see bundle-kube-apiserver).
const RPC_PROTO = path.join(path.dirname(require.resolve('etcd3/package.json')), 'proto/rpc.proto');
const OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

type Method = grpc.MethodDefinition<object, object>;
const methodsOf = (ctor: grpc.ServiceClientConstructor): Record<string, Method> => ctor.service as unknown as Record<string, Method>;

describe('grpcClients', () => {
  const reference = grpc.loadPackageDefinition(loadSync(RPC_PROTO, OPTIONS)).etcdserverpb as Record<string, grpc.ServiceClientConstructor>;
  const root = new Root();
  root.loadSync(RPC_PROTO, { keepCase: true });
  const ours = grpcClients(root.toJSON(), 'etcdserverpb');

  it('gives every service and method proto-loader gives, with the same paths and streaming, and a lower-case alias', () => {
    const services = Object.keys(reference).filter((k) => typeof reference[k] === 'function' && 'service' in reference[k]);
    expect(Object.keys(ours).sort()).toEqual(services.sort());
    for (const name of services) {
      const theirs = methodsOf(reference[name]);
      const mine = methodsOf(ours[name]);
      expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
      for (const [m, def] of Object.entries(mine)) {
        expect([def.path, def.requestStream, def.responseStream]).toEqual([theirs[m].path, theirs[m].requestStream, theirs[m].responseStream]);
        expect(def.originalName).toBe(m[0].toLowerCase() + m.slice(1));
        expect(typeof (ours[name].prototype as Record<string, unknown>)[def.originalName as string]).toBe('function');
      }
    }
    // etcd3 calls its methods by these names.
    expect(Object.values(methodsOf(ours.KV)).map((d) => d.originalName)).toEqual(expect.arrayContaining(['range', 'put', 'deleteRange', 'txn', 'compact']));
  });

  it('encodes and decodes messages exactly as proto-loader does (int64 as strings, enums by name, defaults)', () => {
    const request = { key: Buffer.from('/registry/pods/'), range_end: Buffer.from('/registry/pods0'), limit: '500', revision: '42', sort_order: 'DESCEND' };
    const theirRange = methodsOf(reference.KV).Range;
    const myRange = methodsOf(ours.KV).Range;
    const bytes = theirRange.requestSerialize(request);
    expect(myRange.requestSerialize(request)).toEqual(bytes);
    expect(myRange.requestDeserialize(bytes)).toEqual(theirRange.requestDeserialize(bytes));

    const response = {
      header: { cluster_id: '1', member_id: '2', revision: '43', raft_term: '3' },
      kvs: [{ key: Buffer.from('/registry/pods/a'), create_revision: '10', mod_revision: '40', version: '2', value: Buffer.from('{}'), lease: '0' }],
      more: true,
      count: '7',
    };
    const encoded = theirRange.responseSerialize(response);
    const decoded = myRange.responseDeserialize(encoded) as { kvs: { mod_revision: string }[]; count: string };
    expect(decoded).toEqual(theirRange.responseDeserialize(encoded));
    expect(decoded.kvs[0].mod_revision).toBe('40');
    expect(decoded.count).toBe('7');
  });

  it('says so when the package has no service', () => {
    expect(() => grpcClients(root.toJSON(), 'mvccpb')).toThrow('no gRPC service in package mvccpb');
  });

  // The kubelet's CRI client: its types resolve when first used, and must then encode and decode as the whole file
  // resolved at once (Root.fromJSON) does.
  it('encodes and decodes CRI messages as a fully resolved descriptor does', () => {
    const cri = JSON.parse(readFileSync(path.join(__dirname, '../../../apps/node-agent/data/cri-api.json'), 'utf8')) as Parameters<typeof grpcClients>[0];
    const lazy = grpcClients(cri, 'runtime.v1');
    const full = Root.fromJSON(cri);
    const toObject = { longs: String, enums: String, defaults: true, oneofs: true };
    const sandbox = {
      config: {
        metadata: { name: 'web-0', uid: 'u1', namespace: 'default', attempt: 1 },
        hostname: 'web-0',
        log_directory: '/var/log/pods/default_web-0_u1',
        dns_config: { servers: ['10.0.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
        port_mappings: [{ protocol: 'UDP', container_port: 53, host_port: 5353, host_ip: '0.0.0.0' }],
        labels: { app: 'web' },
        annotations: { 'kubernetes.io/config.seen': 'now' },
        linux: { cgroup_parent: '/kubepods/podu1', security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
      },
      runtime_handler: 'runc',
    };
    const container = {
      pod_sandbox_id: 'abc',
      config: {
        metadata: { name: 'app', attempt: 2 },
        image: { image: 'cerulean.local/web:1.0' },
        command: ['/bin/sh'],
        args: ['-c', 'sleep 1'],
        // cri-api declares KeyValue.value as bytes (cri.ts sends the string's bytes).
        envs: [{ key: 'A', value: Buffer.from('b') }],
        mounts: [{ container_path: '/data', host_path: '/var/lib/kubelet/pods/u1/volumes/data', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }],
        linux: { resources: { cpu_period: '100000', cpu_quota: '50000', memory_limit_in_bytes: '134217728', oom_score_adj: '-997' } },
      },
      sandbox_config: sandbox.config,
    };
    const status = {
      status: {
        id: 'c1',
        metadata: { name: 'app', attempt: 2 },
        state: 'CONTAINER_EXITED',
        created_at: '1700000000000000000',
        started_at: '1700000000100000000',
        finished_at: '1700000000200000000',
        exit_code: 137,
        reason: 'OOMKilled',
        labels: { app: 'web' },
      },
      info: { pid: '42' },
    };
    const check = (service: string, method: string, request: object, response: object) => {
      const def = (lazy[service].service as unknown as Record<string, Method>)[method];
      const requestType = full.lookupType(`runtime.v1.${method}Request`);
      const responseType = full.lookupType(`runtime.v1.${method}Response`);
      const requestBytes = requestType.encode(requestType.fromObject(request)).finish();
      expect(Buffer.from(def.requestSerialize(request))).toEqual(Buffer.from(requestBytes));
      expect(def.requestDeserialize(Buffer.from(requestBytes))).toEqual(requestType.toObject(requestType.decode(requestBytes), toObject));
      const responseBytes = responseType.encode(responseType.fromObject(response)).finish();
      expect(def.responseDeserialize(Buffer.from(responseBytes))).toEqual(responseType.toObject(responseType.decode(responseBytes), toObject));
      return def.responseDeserialize(Buffer.from(responseBytes)) as Record<string, unknown>;
    };
    check('RuntimeService', 'RunPodSandbox', sandbox, { pod_sandbox_id: 'abc' });
    check('RuntimeService', 'CreateContainer', container, { container_id: 'c1' });
    const decoded = check('RuntimeService', 'ContainerStatus', { container_id: 'c1', verbose: true }, status);
    expect(decoded).toMatchObject({ status: { state: 'CONTAINER_EXITED', exit_code: 137, finished_at: '1700000000200000000' }, info: { pid: '42' } });
  });
});
