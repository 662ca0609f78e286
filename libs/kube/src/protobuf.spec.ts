import protobuf from 'protobufjs';
import descriptor from '../data/proto.json';
import { decodeProtobufObject } from './protobuf';

const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);

/** Encodes as client-go does: `k8s\0` + runtime.Unknown{typeMeta, raw = the object's message}. */
function envelope(apiVersion: string, kind: string, typeName: string, obj: Record<string, unknown>): Buffer {
  const T = root.lookupType(typeName);
  const raw = T.encode(T.fromObject(obj)).finish();
  const U = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const env = U.encode(U.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(env)]);
}

describe('protobuf request bodies', () => {
  it('decodes a Deployment with quantities, int-or-strings, maps and pointer zeros', () => {
    const body = envelope('apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment', {
      metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: {} },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { type: 1, strVal: '30%' }, maxUnavailable: { type: 0, intVal: 1 } } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'web', image: 'nginx', resources: { limits: { cpu: { string: '500m' } } }, ports: [{ containerPort: 80, hostPort: 0 }] }],
          },
        },
      },
    });
    const d = decodeProtobufObject(body) as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(d.apiVersion).toBe('apps/v1');
    expect(d.kind).toBe('Deployment');
    expect(d.metadata).toEqual({ name: 'web', labels: { app: 'web' } });
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.strategy.rollingUpdate).toEqual({ maxSurge: '30%', maxUnavailable: 1 });
    expect(d.spec.template.spec.containers[0]).toEqual({ name: 'web', image: 'nginx', resources: { limits: { cpu: '500m' } }, ports: [{ containerPort: 80 }] });
  });

  it('decodes Secret bytes as base64, as the JSON form carries them', () => {
    const s = decodeProtobufObject(
      envelope('v1', 'Secret', 'k8s.io.api.core.v1.Secret', { metadata: { name: 's' }, data: { p: Buffer.from('pw') }, type: 'Opaque' }),
    );
    expect(s).toMatchObject({ kind: 'Secret', data: { p: Buffer.from('pw').toString('base64') }, type: 'Opaque' });
  });

  it('refuses a body without the envelope prefix with 400', () => {
    expect(() => decodeProtobufObject(Buffer.from('{}'))).toThrow(expect.objectContaining({ code: 400 }));
  });
});
