import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandObjects, commandPodName } from './command-pod';

const spec = {
  commandId: '0E9872E6-6293-49dc-865e-27ee6f8bab2d',
  command: 'echo "$HOME" \'quoted\'; exit 3',
  image: '127.0.0.1:5000/cerulean/aks-command:1.0',
  node: 'aks-system-1-vmss000000',
};

type PodBody = {
  metadata: { name: string; namespace: string };
  spec: {
    nodeSelector: Record<string, string>;
    serviceAccountName: string;
    restartPolicy: string;
    containers: { command: string[]; env: { name: string; value: string }[]; volumeMounts?: unknown[] }[];
    volumes?: { secret: { secretName: string } }[];
  };
};

describe('commandObjects', () => {
  it('names the pod as AKS does and creates namespace, service account and cluster-admin binding first', () => {
    expect(commandPodName(spec.commandId)).toBe('command-0e9872e6629349dc865e27ee6f8bab2d');
    const sut = commandObjects({ ...spec, context: null });
    expect(sut.map((o) => o.body.kind)).toEqual(['Namespace', 'ServiceAccount', 'ClusterRoleBinding', 'Pod']);
    expect(sut[2].body).toMatchObject({
      roleRef: { name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'aks-command', namespace: 'aks-command' }],
    });
    const pod = sut[3].body as unknown as PodBody;
    expect(pod.metadata).toMatchObject({ name: 'command-0e9872e6629349dc865e27ee6f8bab2d', namespace: 'aks-command' });
    expect(pod.spec).toMatchObject({ restartPolicy: 'Never', serviceAccountName: 'aks-command', nodeSelector: { 'kubernetes.io/hostname': spec.node } });
    expect(pod.spec.volumes).toBeUndefined();
    expect(pod.spec.containers[0].env).toEqual([{ name: 'COMMAND', value: spec.command }]);
  });

  it('mounts the context from a Secret of the same name when there is one', () => {
    const sut = commandObjects({ ...spec, context: Buffer.from('PK\u0003\u0004zip') });
    expect(sut.map((o) => o.body.kind)).toEqual(['Namespace', 'ServiceAccount', 'ClusterRoleBinding', 'Secret', 'Pod']);
    expect(sut[3].body).toMatchObject({
      metadata: { name: 'command-0e9872e6629349dc865e27ee6f8bab2d' },
      data: { 'context.zip': Buffer.from('PK\u0003\u0004zip').toString('base64') },
    });
    const pod = sut[4].body as unknown as PodBody;
    expect(pod.spec.volumes).toEqual([{ name: 'context', secret: { secretName: 'command-0e9872e6629349dc865e27ee6f8bab2d' } }]);
  });

  it("runs the command's text unchanged through sh, in a fresh working directory, with its exit code", () => {
    const pod = commandObjects({ ...spec, context: null }).at(-1)?.body as unknown as PodBody;
    const [sh, dashC, script] = pod.spec.containers[0].command;
    expect([sh, dashC]).toEqual(['sh', '-c']);
    // The script as the container runs it, with its working directory moved under a temporary one.
    const dir = mkdtempSync(join(tmpdir(), 'command-pod-'));
    const run = spawnSync('sh', ['-c', script.replaceAll('/command', `${dir}/command`)], {
      env: { COMMAND: spec.command, HOME: '/root', PATH: process.env.PATH },
    });
    rmSync(dir, { recursive: true, force: true });
    expect([run.status, run.stdout.toString()]).toEqual([3, '/root quoted\n']);
  });
});
