import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { useKubeCluster } from '../../../test-support/kube-cluster';
import { dockerNodes } from '../../../test-support/platform';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

const execFile = promisify(execFileCb);

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  containerID?: string;
  state: { running?: unknown; waiting?: { reason: string }; terminated?: { reason: string; exitCode: number } };
}
interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatus[];
  };
}
interface Node {
  metadata: { name: string };
  spec: { podCIDR?: string; podCIDRs?: string[] };
  status: { addresses: { type: string; address: string }[] };
}

/** Whether `ip` (dotted quad) lies in `cidr`. */
function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

/**
 * Real pods on the nodes (issue 15): each node runs containerd inside itself and its agent is the kubelet (CRI). A
 * Deployment's pods run in the nodes' containerd with addresses from their node's podCIDR; a pod on one node reaches
 * a pod on the other through the routes between nodes; `kubectl logs` reads the container's CRI log through the
 * kubelet; a crashing container goes into CrashLoopBackOff; deleting the Deployment stops the containers.
 */
describe('pods run on the nodes', () => {
  const rg = 'pods-rg';
  const name = 'pods1';
  const { kubectl, json } = useKubeCluster({ rg, name, pools: [{ name: 'np1', count: 2 }], kubectlTimeoutMs: 60_000 });
  let nodes: Node[] = [];

  const pods = async (selector: string) => (await json<{ items: Pod[] }>(['get', 'pods', '-l', selector])).items.filter((p) => !p.metadata.deletionTimestamp);
  /** What the node's containerd runs (CRI's namespace), read inside the node container. */
  const containersOn = async (node: string): Promise<string[]> => {
    const { stdout } = await execFile('docker', ['exec', node, 'ctr', '--namespace', 'k8s.io', 'containers', 'list', '--quiet'], { timeout: 30_000 });
    return stdout.split('\n').filter(Boolean);
  };

  it('gives every node its own /24 of the cluster pod range', async () => {
    nodes = await waitUntil(
      'both nodes with a podCIDR',
      async () => {
        const items = (await json<{ items: Node[] }>(['get', 'nodes'])).items;
        return items.length === 2 && items.every((n) => n.spec.podCIDR) ? items : undefined;
      },
      60_000,
    );
    const cidrs = nodes.map((n) => n.spec.podCIDR as string);
    expect(new Set(cidrs).size).toBe(2);
    for (const n of nodes) {
      expect(n.spec.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
      expect(n.spec.podCIDRs).toEqual([n.spec.podCIDR]);
    }
  });

  it('names the runtime each node really runs and the kernel under it, as kubelet does (kubectl get nodes -o wide)', async () => {
    const { stdout: runtime } = await execFile('docker', ['exec', nodes[0].metadata.name, 'containerd', '--version'], { timeout: 30_000 });
    const version = runtime.split(' ')[2]; // "containerd github.com/containerd/containerd 1.6.20~ds1 <revision>"
    const { stdout: kernel } = await execFile('uname', ['-r']);
    const wide = (await kubectl(['get', 'nodes', '-o', 'wide', '--no-headers'])).split('\n').filter(Boolean);

    expect(wide).toHaveLength(2);
    for (const row of wide) {
      expect(row).toContain(` ${kernel.trim()} `);
      expect(row.trim().endsWith(`containerd://${version}`)).toBe(true);
    }
    const info = (await json<{ items: { status: { nodeInfo: { machineID: string; bootID: string } } }[] }>(['get', 'nodes'])).items.map(
      (n) => n.status.nodeInfo,
    );
    // Each node its own machine ID (a VM's), the boot ID of the kernel they share.
    expect(new Set(info.map((i) => i.machineID)).size).toBe(2);
    expect(info.every((i) => /^[0-9a-f]{32}$/.test(i.machineID) && i.bootID !== '')).toBe(true);
  });

  it('runs a Deployment: one pod per node, Running and Ready with an address of its node, its log through kubectl logs', async () => {
    const [a, b] = nodes.map((n) => n.metadata.name);
    const web = (node: string, app: string) =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        `metadata: {name: ${app}}`,
        'spec:',
        '  replicas: 1',
        `  selector: {matchLabels: {app: ${app}}}`,
        '  template:',
        `    metadata: {labels: {app: ${app}, tier: web}}`,
        '    spec:',
        `      nodeSelector: {kubernetes.io/hostname: ${node}}`,
        // httpd as PID 1 ignores SIGTERM: without a short grace period every delete waits the default 30 s for SIGKILL.
        '      terminationGracePeriodSeconds: 2',
        '      containers:',
        '      - name: httpd',
        '        image: busybox:1.35',
        '        command: [sh, -c]',
        '        args: ["mkdir -p /www && echo hello from $(hostname) > /www/index.html && echo serving $(hostname) && exec httpd -f -p 8080 -h /www"]',
        '        ports: [{containerPort: 8080}]',
        '        resources: {requests: {cpu: 10m, memory: 8Mi}, limits: {memory: 32Mi}}',
      ].join('\n');
    await kubectl(['apply', '-f', '-'], `${web(a, 'web-a')}\n---\n${web(b, 'web-b')}`);
    const running = await waitUntil(
      'two web pods Running and Ready',
      async () => {
        const items = await pods('tier=web');
        const ok = items.filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ok.length === 2 ? ok : undefined;
      },
      90_000,
    );
    for (const p of running) {
      const node = nodes.find((n) => n.metadata.name === p.spec.nodeName) as Node;
      expect(inCidr(p.status?.podIP as string, node.spec.podCIDR as string)).toBe(true);
      expect(p.status?.hostIP).toBe(node.status.addresses.find((x) => x.type === 'InternalIP')?.address);
      const [c] = p.status?.containerStatuses ?? [];
      expect(c).toMatchObject({ name: 'httpd', ready: true, restartCount: 0, containerID: expect.stringMatching(/^containerd:\/\/[0-9a-f]{64}$/) });
      expect(c.state.running).toBeDefined();
      // The container really runs in that node's containerd.
      expect(await containersOn(p.spec.nodeName as string)).toContain(c.containerID?.slice('containerd://'.length));
      expect(await kubectl(['logs', p.metadata.name])).toBe(`serving ${p.metadata.name}\n`);
    }
  });

  it('lets a pod on one node reach a pod on the other by its pod IP', async () => {
    const [a, b] = await Promise.all([pods('app=web-a'), pods('app=web-b')]);
    const target = a[0];
    const job = [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata: {name: fetch}',
      'spec:',
      '  backoffLimit: 2',
      '  template:',
      '    spec:',
      '      restartPolicy: Never',
      `      nodeSelector: {kubernetes.io/hostname: ${b[0].spec.nodeName}}`,
      // busybox-static 1.35's wget crashes on -T (Debian's build): `timeout` bounds it instead.
      `      containers: [{name: fetch, image: busybox:1.35, command: [timeout, '10', wget, -qO-, 'http://${target.status?.podIP}:8080/']}]`,
    ].join('\n');
    await kubectl(['apply', '-f', '-'], job);
    await waitUntil(
      'the fetch Job complete',
      async () => (await json<{ status: { succeeded?: number } }>(['get', 'job', 'fetch'])).status.succeeded === 1 || undefined,
      90_000,
    );
    expect(await kubectl(['logs', 'job/fetch'])).toBe(`hello from ${target.metadata.name}\n`);
  });

  it('reaches the pods through a Service by its DNS name, from a pod on either node', async () => {
    const svc = [
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web}',
      'spec: {selector: {tier: web}, ports: [{name: http, port: 80, targetPort: 8080}]}',
    ].join('\n');
    await kubectl(['apply', '-f', '-'], svc);
    const names = (await pods('tier=web')).map((p) => p.metadata.name).sort();
    for (const node of nodes.map((n) => n.metadata.name)) {
      const job = `dns-${node.slice(-1)}`;
      const manifest = [
        'apiVersion: batch/v1',
        'kind: Job',
        `metadata: {name: ${job}}`,
        'spec:',
        '  backoffLimit: 4',
        '  template:',
        '    spec:',
        '      restartPolicy: Never',
        `      nodeSelector: {kubernetes.io/hostname: ${node}}`,
        // Several fetches: the Service spreads them over both pods (kube-proxy's random choice).
        "      containers: [{name: get, image: busybox:1.35, command: [sh, -c, 'for i in 1 2 3 4 5 6 7 8; do timeout 10 wget -qO- http://web.default.svc.cluster.local/ || exit 1; done']}]",
      ].join('\n');
      await kubectl(['apply', '-f', '-'], manifest);
      await waitUntil(
        `${job} complete`,
        async () => (await json<{ status: { succeeded?: number } }>(['get', 'job', job])).status.succeeded === 1 || undefined,
        90_000,
      );
      const answers = (await kubectl(['logs', `job/${job}`])).split('\n').filter(Boolean);
      expect(answers).toHaveLength(8);
      for (const a of answers) expect(names.map((n) => `hello from ${n}`)).toContain(a);
    }
  });

  it("gives containers the Services' variables (WEB_SERVICE_HOST, KUBERNETES_PORT_443_TCP, …) and they reach the Service by them", async () => {
    const web = await json<{ spec: { clusterIP: string } }>(['get', 'service', 'web']);
    const api = await json<{ spec: { clusterIP: string } }>(['get', 'service', 'kubernetes']);
    const manifest = [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata: {name: links}',
      'spec:',
      '  backoffLimit: 4',
      '  template:',
      '    spec:',
      '      restartPolicy: Never',
      "      containers: [{name: env, image: busybox:1.35, command: [sh, -c, 'echo $WEB_SERVICE_HOST $WEB_SERVICE_PORT_HTTP $WEB_PORT $KUBERNETES_PORT_443_TCP; timeout 10 wget -qO- http://$WEB_SERVICE_HOST:$WEB_SERVICE_PORT/ >/dev/null && echo reached']}]",
    ].join('\n');
    await kubectl(['apply', '-f', '-'], manifest);
    await waitUntil(
      'the links Job complete',
      async () => (await json<{ status: { succeeded?: number } }>(['get', 'job', 'links'])).status.succeeded === 1 || undefined,
      90_000,
    );
    expect(await kubectl(['logs', 'job/links'])).toBe(`${web.spec.clusterIP} 80 tcp://${web.spec.clusterIP}:80 tcp://${api.spec.clusterIP}:443\nreached\n`);
  });

  it('shows a container that keeps failing in CrashLoopBackOff with its restarts counted', async () => {
    await kubectl(['run', 'crash', '--image=busybox:1.35', '--restart=Always', '--', 'sh', '-c', 'echo bye; exit 3']);
    const pod = await waitUntil(
      'crash in CrashLoopBackOff',
      async () => {
        const p = await json<Pod>(['get', 'pod', 'crash']);
        const c = p.status?.containerStatuses?.[0];
        return c?.state.waiting?.reason === 'CrashLoopBackOff' && c.restartCount >= 1 ? p : undefined;
      },
      90_000,
    );
    expect(pod.status?.phase).toBe('Running');
    expect(await kubectl(['logs', 'crash', '--previous'])).toBe('bye\n');
  });

  it("keeps a StatefulSet's data on its node's volume across the pod's deletion, and removes the volume with its claim", async () => {
    // AKS's classes are there, `default` the default one, provisioning on the first consumer's node.
    const classes = await json<{
      items: { metadata: { name: string; annotations?: Record<string, string> }; provisioner: string; volumeBindingMode: string }[];
    }>(['get', 'storageclasses']);
    const byName = new Map(classes.items.map((c) => [c.metadata.name, c]));
    expect(byName.get('default')).toMatchObject({ provisioner: 'disk.csi.azure.com', volumeBindingMode: 'WaitForFirstConsumer' });
    expect(byName.get('default')?.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']).toBe('true');
    expect(byName.has('managed-csi')).toBe(true);
    await kubectl(
      ['apply', '-f', '-'],
      [
        'apiVersion: apps/v1',
        'kind: StatefulSet',
        'metadata: {name: db}',
        'spec:',
        '  serviceName: db',
        '  replicas: 1',
        '  selector: {matchLabels: {app: db}}',
        '  template:',
        '    metadata: {labels: {app: db}}',
        '    spec:',
        '      terminationGracePeriodSeconds: 1',
        '      containers:',
        '      - name: db',
        '        image: busybox:1.35',
        '        command: [sh, -c, "echo started >> /data/starts; exec sleep 3600"]',
        '        volumeMounts: [{name: data, mountPath: /data}]',
        '  volumeClaimTemplates:',
        '  - metadata: {name: data}',
        '    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}',
      ].join('\n'),
    );
    const first = await waitUntil(
      'db-0 Running',
      async () => (await pods('app=db')).find((p) => p.metadata.name === 'db-0' && p.status?.phase === 'Running'),
      120_000,
    );
    type Claim = { metadata: { uid: string }; spec: { volumeName?: string; storageClassName?: string }; status: { phase: string } };
    const claim = await json<Claim>(['get', 'pvc', 'data-db-0']);
    expect(claim.status.phase).toBe('Bound');
    expect(claim.spec.storageClassName).toBe('default');
    expect(claim.spec.volumeName).toBe(`pvc-${claim.metadata.uid}`);
    type Volume = { spec: { local?: { path: string }; nodeAffinity: { required: { nodeSelectorTerms: { matchExpressions: { values: string[] }[] }[] } } } };
    const pv = await json<Volume>(['get', 'pv', claim.spec.volumeName as string]);
    // A volume on the node the pod was scheduled to, like a disk attached there.
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([first.spec.nodeName]);
    await kubectl(['exec', 'db-0', '--', 'sh', '-c', 'echo kept > /data/greeting']);
    await kubectl(['delete', 'pod', 'db-0', '--wait=true']);
    const second = await waitUntil(
      'a new db-0 Running',
      async () => (await pods('app=db')).find((p) => p.metadata.name === 'db-0' && p.metadata.uid !== first.metadata.uid && p.status?.phase === 'Running'),
      120_000,
    );
    expect(second.spec.nodeName).toBe(first.spec.nodeName);
    // The data sits in the node's own filesystem, in the volume's directory.
    const onNode = (script: string) => execFile('docker', ['exec', first.spec.nodeName as string, 'sh', '-c', script], { timeout: 30_000 });
    expect((await onNode(`cat /var/lib/cerulean/volumes/${claim.spec.volumeName}/greeting`)).stdout).toBe('kept\n');
    expect(await kubectl(['exec', 'db-0', '--', 'cat', '/data/greeting', '/data/starts'])).toBe('kept\nstarted\nstarted\n');
    // The claim outlives its StatefulSet (retention policy Retain); deleting it deletes the volume (reclaim policy Delete).
    await kubectl(['delete', 'statefulset', 'db', '--wait=true']);
    await waitUntil('db-0 gone', async () => ((await pods('app=db')).length === 0 ? true : undefined), 60_000);
    expect((await json<Claim>(['get', 'pvc', 'data-db-0'])).status.phase).toBe('Bound');
    await kubectl(['delete', 'pvc', 'data-db-0', '--wait=true']);
    await waitUntil(
      'the volume deleted with its claim',
      async () =>
        (await json<{ items: { metadata: { name: string } }[] }>(['get', 'pv'])).items.some((v) => v.metadata.name === claim.spec.volumeName)
          ? undefined
          : true,
      60_000,
    );
    // Wiped from the node before the volume object went (a pod on that node removed the directory).
    expect((await onNode('ls /var/lib/cerulean/volumes')).stdout.split('\n')).not.toContain(claim.spec.volumeName);
  });

  it('stops the containers of deleted pods', async () => {
    const before = await pods('tier=web');
    await kubectl(['delete', 'deployment', 'web-a', 'web-b', '--wait=true']);
    await kubectl(['delete', 'pod', 'crash', '--wait=true']);
    // Gone from the API, terminating ones included: the kubelet removes a pod only once its containers stopped.
    const all = async () => (await json<{ items: Pod[] }>(['get', 'pods', '-l', 'tier=web'])).items;
    await waitUntil('no web pods left', async () => ((await all()).length === 0 ? true : undefined), 60_000);
    for (const p of before) {
      const id = p.status?.containerStatuses?.[0].containerID?.slice('containerd://'.length);
      await waitUntil(
        `container of ${p.metadata.name} gone`,
        async () => ((await containersOn(p.spec.nodeName as string)).includes(id as string) ? undefined : true),
        30_000,
      );
    }
    expect((await dockerNodes(name)).length).toBe(2);
  });
});
