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
});
