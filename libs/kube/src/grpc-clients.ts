import * as grpc from '@grpc/grpc-js';
import { Namespace, Root, Service, type INamespace, type Type } from 'protobufjs';

/**
 * gRPC client constructors for every service of `pkg` in a protobufjs JSON descriptor, as @grpc/proto-loader and
 * grpc.loadPackageDefinition would give them with `{ longs: String, enums: String, defaults: true, oneofs: true }`:
 * messages are plain objects, int64 as decimal strings, enums by name. Each method is also reachable by its name with
 * a lower-case first letter (`Range` and `range`), as proto-loader's `originalName`. proto-loader would also parse
 * .proto text and build a reflection descriptor of every message and enum, which only gRPC server reflection reads.
 *
 * Not exported from the package index: only the processes that speak gRPC (the kubelet's CRI client, the API server's
 * etcd client) load grpc-js.
 */
export function grpcClients(json: INamespace, pkg: string): Record<string, grpc.ServiceClientConstructor> {
  // Not Root.fromJSON: it resolves the field types of every message of the file at once, 70 % of the CPU of building
  // the CRI clients at a node's start (about 40 ms there). A message resolves its own fields when first encoded or
  // decoded (protobufjs' Type.setup), so only what the methods name is resolved here.
  const root = new Root();
  if (json.options) root.setOptions(json.options);
  if (json.nested) root.addJSON(json.nested);
  const toObject = { longs: String, enums: String, defaults: true, oneofs: true };
  const serialize = (type: Type) => (value: object) => type.encode(type.fromObject(value)).finish() as Buffer;
  const deserialize = (type: Type) => (bytes: Buffer) => type.toObject(type.decode(bytes), toObject);
  const clients: Record<string, grpc.ServiceClientConstructor> = {};
  const ns = root.lookup(pkg);
  for (const service of ns instanceof Namespace ? ns.nestedArray : []) {
    if (!(service instanceof Service)) continue;
    const methods: Record<string, grpc.MethodDefinition<object, object>> = {};
    for (const m of service.methodsArray) {
      m.resolve();
      const request = m.resolvedRequestType;
      const response = m.resolvedResponseType;
      if (!request || !response) throw new Error(`${pkg}.${service.name}/${m.name}: its message types did not resolve`);
      methods[m.name] = {
        path: `/${pkg}.${service.name}/${m.name}`,
        requestStream: !!m.requestStream,
        responseStream: !!m.responseStream,
        requestSerialize: serialize(request),
        requestDeserialize: deserialize(request),
        responseSerialize: serialize(response),
        responseDeserialize: deserialize(response),
        originalName: m.name.charAt(0).toLowerCase() + m.name.slice(1),
      };
    }
    clients[service.name] = grpc.makeGenericClientConstructor(methods, service.name);
  }
  if (!Object.keys(clients).length) throw new Error(`no gRPC service in package ${pkg}`);
  return clients;
}
