import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, useKubeCluster } from '../../../test-support/kube-cluster';
import { waitUntil } from '../../../test-support/wait';

jest.setTimeout(300_000);

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}
interface Node {
  metadata: { name: string };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `kubectl exec` (issue: exec): kubectl 1.36 opens a websocket (v5.channel.k8s.io) to the API server, which checks the
 * request and relays it to the pod's kubelet; the kubelet runs the command in the node's containerd. Output keeps
 * stdout and stderr apart, stdin reaches the command and ends when kubectl's input ends, the command's exit code
 * becomes kubectl's, a terminal session gets its size, and errors come back as Status.
 */
describe('kubectl exec into pods on the nodes', () => {
  const rg = 'exec-rg';
  const name = 'exec1';
  const { kubeconfig } = useKubeCluster({ rg, name, pools: [{ name: 'np1', count: 2 }] });
  let nodes: string[] = [];

  /** kubectl with its exit code and both outputs, whatever the code (stopped after `timeoutMs`). */
  const run = (args: string[], input?: string, command = KUBECTL, timeoutMs = 60_000): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(command, command === KUBECTL ? ['--kubeconfig', kubeconfig, '--request-timeout=30s', ...args] : args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: timeoutMs,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await run(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, '-o', 'json'])) as T;

  const pod = (podName: string, node: string, containers: string[]) =>
    [
      'apiVersion: v1',
      'kind: Pod',
      `metadata: {name: ${podName}, labels: {app: ${podName}}}`,
      'spec:',
      `  nodeSelector: {kubernetes.io/hostname: ${node}}`,
      '  terminationGracePeriodSeconds: 1',
      '  containers:',
      ...containers.flatMap((c) => [
        `  - name: ${c}`,
        '    image: docker.io/library/busybox:1.35',
        '    command: [sleep, "3600"]',
        `    env: [{name: WHO, value: ${c}}]`,
        '    resources: {requests: {cpu: 10m, memory: 8Mi}, limits: {memory: 32Mi}}',
      ]),
    ].join('\n');

  beforeAll(async () => {
    nodes = await waitUntil(
      'two nodes',
      async () => {
        const items = (await json<{ items: Node[] }>(['get', 'nodes'])).items;
        return items.length === 2 ? items.map((n) => n.metadata.name).sort() : undefined;
      },
      60_000,
    );
    const [a, b] = nodes;
    const ticker = pod('ticker', b, ['main']).replace(
      'command: [sleep, "3600"]',
      'command: [sh, -c, "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.3; done"]',
    );
    await kubectl(['apply', '-f', '-'], [pod('one', a, ['main']), pod('two', a, ['first', 'second']), pod('far', b, ['main']), ticker].join('\n---\n'));
    await waitUntil(
      'the four pods Running and Ready',
      async () => {
        const items = (await json<{ items: Pod[] }>(['get', 'pods'])).items;
        const ready = items.filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === 4 || undefined;
      },
      120_000,
    );
  });

  it('runs a command and prints its output', async () => {
    expect(await run(['exec', 'one', '--', 'echo', 'hello', 'world'])).toEqual({ code: 0, stdout: 'hello world\n', stderr: '' });
  });

  it('keeps stdout and stderr apart', async () => {
    const r = await run(['exec', 'one', '--', 'sh', '-c', 'echo to-out; echo to-err >&2; echo more-out']);
    expect(r).toEqual({ code: 0, stdout: 'to-out\nmore-out\n', stderr: 'to-err\n' });
  });

  it("exits with the command's exit code", async () => {
    const r = await run(['exec', 'one', '--', 'sh', '-c', 'echo before; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('before\n');
    expect((await run(['exec', 'one', '--', 'false'])).code).toBe(1);
  });

  it('passes stdin with -i, ended when kubectl input ends', async () => {
    const input = 'line one\nline two\n';
    expect(await run(['exec', '-i', 'one', '--', 'cat'], input)).toEqual({ code: 0, stdout: input, stderr: '' });
    expect(await run(['exec', '-i', 'one', '--', 'wc', '-l'], input)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\s*2\n$/) });
  });

  it('carries megabytes both ways', async () => {
    const input = 'x'.repeat(1023) + '\n';
    const r = await run(['exec', '-i', 'one', '--', 'wc', '-c'], input.repeat(3 * 1024));
    expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\s*3145728\n$/) });
    const out = await run(['exec', 'one', '--', 'sh', '-c', 'head -c 5000000 /dev/zero | tr "\\0" y']);
    expect(out.code).toBe(0);
    expect(out.stdout.length).toBe(5_000_000);
    expect(out.stdout.replace(/y/g, '')).toBe('');
  });

  it('copies files into a pod and back with kubectl cp (tar over exec)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-cp-'));
    try {
      const payload = randomBytes(300_000).toString('base64');
      writeFileSync(join(dir, 'up.txt'), payload);
      const up = await run(['cp', join(dir, 'up.txt'), 'two:/tmp/up.txt', '-c', 'second']);
      expect(up).toMatchObject({ code: 0, stderr: '' });
      expect(await run(['exec', 'two', '-c', 'second', '--', 'sh', '-c', 'wc -c < /tmp/up.txt'])).toMatchObject({ code: 0, stdout: `${payload.length}\n` });
      // Only the container -c names got it.
      expect((await run(['exec', 'two', '-c', 'first', '--', 'ls', '/tmp/up.txt'])).code).not.toBe(0);
      const down = await run(['cp', 'two:/tmp/up.txt', join(dir, 'down.txt'), '-c', 'second']);
      expect(down.code).toBe(0);
      expect(readFileSync(join(dir, 'down.txt'), 'utf8')).toBe(payload);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers a command that cannot start with the runtime's error, not an exit code", async () => {
    const r = await run(['exec', 'one', '--', 'no-such-command', 'x']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: Internal error occurred: error executing command in container: .*"no-such-command": executable file not found in \$PATH/);
  });

  it('runs in the container -c names, the first one without it', async () => {
    expect(await run(['exec', 'two', '-c', 'second', '--', 'sh', '-c', 'echo $WHO'])).toMatchObject({ code: 0, stdout: 'second\n' });
    const r = await run(['exec', 'two', '--', 'sh', '-c', 'echo $WHO']);
    expect(r).toMatchObject({ code: 0, stdout: 'first\n' });
    expect(r.stderr).toContain('Defaulted container "first" out of: first, second');
  });

  it('refuses a container the pod does not have, with the Status error', async () => {
    const r = await run(['exec', 'one', '-c', 'nope', '--', 'echo', 'hi']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('container nope is not valid for pod one');
  });

  it('runs in a pod on the other node', async () => {
    const far = await json<Pod>(['get', 'pod', 'far']);
    const one = await json<Pod>(['get', 'pod', 'one']);
    expect(far.spec.nodeName).not.toBe(one.spec.nodeName);
    expect(await run(['exec', 'far', '--', 'hostname'])).toEqual({ code: 0, stdout: 'far\n', stderr: '' });
  });

  it('gives -it a terminal of the size kubectl has', async () => {
    // script(1) gives kubectl a terminal; kubectl sends its size on the resize channel, which containerd applies once
    // the process started (as with upstream's kubelet): the command waits a moment before it looks.
    const line = `stty cols 91 rows 33; ${KUBECTL} --kubeconfig ${kubeconfig} exec -it one -- sh -c 'sleep 1; stty size; tty; exit 4'`;
    const r = await run(['-qec', line, '/dev/null'], undefined, 'script');
    expect(r.stdout).toContain('33 91');
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(r.code).toBe(4);
  });

  it("attaches to a running container's output", async () => {
    const r = await run(['attach', 'ticker'], undefined, KUBECTL, 4000);
    const ticks = r.stdout.split('\n').filter((l) => /^tick \d+$/.test(l));
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    // Consecutive: nothing lost in between.
    const numbers = ticks.map((t) => Number(t.slice(5)));
    expect(numbers).toEqual(numbers.map((_, i) => numbers[0] + i));
  });

  it("reaches a Service by its DNS name from a pod's exec", async () => {
    const web = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: web, labels: {app: web}}',
      'spec:',
      `  nodeSelector: {kubernetes.io/hostname: ${nodes[1]}}`,
      '  terminationGracePeriodSeconds: 1',
      '  containers:',
      '  - name: httpd',
      '    image: docker.io/library/busybox:1.35',
      '    command: [sh, -c, "mkdir -p /www && echo hello from web > /www/index.html && exec httpd -f -p 8080 -h /www"]',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: web}',
      'spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}',
    ].join('\n');
    await kubectl(['apply', '-f', '-'], web);
    const r = await waitUntil(
      'the Service answering through exec',
      async () => {
        const x = await run(['exec', 'one', '--', 'timeout', '10', 'wget', '-qO-', 'http://web']);
        return x.code === 0 ? x : undefined;
      },
      90_000,
    );
    expect(r.stdout).toBe('hello from web\n');
  });

  it("kubectl debug adds an ephemeral container that shares the target container's processes, and attaches to one with -i", async () => {
    await kubectl(['debug', 'far', '--image=docker.io/library/busybox:1.35', '--target=main', '-c', 'debugger', '--', 'sleep', '3600']);
    const running = await waitUntil(
      'the ephemeral container running',
      async () => {
        const p = await json<{ status: { ephemeralContainerStatuses?: { name: string; ready: boolean; state: { running?: unknown } }[] } }>([
          'get',
          'pod',
          'far',
        ]);
        const s = p.status.ephemeralContainerStatuses?.find((c) => c.name === 'debugger');
        return s?.state.running ? s : undefined;
      },
      60_000,
    );
    expect(running.ready).toBe(false);
    // Through --target it sees the target's process table: `sleep 3600` of main, pid 1 there.
    const ps = await kubectl(['exec', 'far', '-c', 'debugger', '--', 'ps', '-o', 'pid,args']);
    expect(ps).toMatch(/^\s*1\s+sleep 3600$/m);
    expect(await kubectl(['describe', 'pod', 'far'])).toMatch(/Ephemeral Containers:\s+debugger:/);
    // The pod itself never restarted for it.
    expect((await json<{ status: { containerStatuses: { restartCount: number }[] } }>(['get', 'pod', 'far'])).status.containerStatuses[0].restartCount).toBe(0);
    // -i: kubectl waits for it to run and attaches its stdin and output. containerd's attach starts copying stdin before
    // it adds the output stream, so an answer written before that is lost: a person at a terminal never types that
    // fast, and upstream's kubelet has the same race. The shell answers after 1, 3 and 7 s, so an output stream added
    // late on a busy machine still gets one (CI saw the output empty once with a single answer at once, and once with a
    // single answer after 1 s).
    const interactive = await run(
      ['debug', 'far', '-i', '--image=docker.io/library/busybox:1.35', '-c', 'shell', '--', 'sh'],
      'for pause in 1 2 4; do sleep $pause; echo hello-from-debug; done\nexit\n',
    );
    expect(interactive.stdout).toContain('hello-from-debug');
    // Another container of that name merges into the existing one (a strategic merge by name): refused, as upstream.
    const again = await run(['debug', 'far', '--image=docker.io/library/busybox:1.35', '-c', 'debugger', '--', 'true']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(
      'The Pod "far" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed',
    );
  });

  it("kubectl debug node/ runs a pod on that node with the node's root at /host and its network and processes", async () => {
    const out = await kubectl([
      'debug',
      `node/${nodes[1]}`,
      '--image=docker.io/library/busybox:1.35',
      '--',
      'sh',
      '-c',
      'cat /host/etc/hostname; hostname; sleep 3600',
    ]);
    const podName = /Creating debugging pod (\S+) with container debugger on node/.exec(out)?.[1];
    expect(podName).toMatch(/^node-debugger-/);
    const logs = await waitUntil(
      'the node debugger output',
      async () => {
        const r = await run(['logs', podName as string]);
        return r.code === 0 && r.stdout.split('\n').filter(Boolean).length >= 2 ? r.stdout : undefined;
      },
      60_000,
    );
    const [hostFile, hostName] = logs.trim().split('\n');
    // The node's own hostname file and, with hostNetwork, the node's hostname.
    expect(hostFile).toBe(nodes[1]);
    expect(hostName).toBe(nodes[1]);
    await kubectl(['delete', 'pod', podName as string, '--wait=false']);
  });

  it('restarts a container whose image changes (kubectl set image on the pod), and only that one', async () => {
    const before = await json<{ status: { containerStatuses: { name: string; containerID: string }[] } }>(['get', 'pod', 'two']);
    // Another spelling of the image: a change of the spec, which upstream's kubelet answers with a restart.
    await kubectl(['set', 'image', 'pod/two', 'first=busybox:1.35']);
    const after = await waitUntil(
      'the first container restarted with its new image',
      async () => {
        const p = await json<{
          status: { containerStatuses: { name: string; restartCount: number; image: string; containerID: string; state: { running?: unknown } }[] };
        }>(['get', 'pod', 'two']);
        const first = p.status.containerStatuses.find((c) => c.name === 'first');
        return first?.restartCount === 1 && first.state.running ? p : undefined;
      },
      60_000,
    );
    expect(after.status.containerStatuses.find((c) => c.name === 'second')?.restartCount).toBe(0);
    expect(after.status.containerStatuses.find((c) => c.name === 'first')?.image).toContain('busybox:1.35');
    // The other container is the very one that ran before.
    const second = (x: { status: { containerStatuses: { name: string; containerID: string }[] } }) =>
      x.status.containerStatuses.find((c) => c.name === 'second')?.containerID;
    expect(second(after)).toBe(second(before));
    expect(await kubectl(['describe', 'pod', 'two'])).toMatch(/Killing\s+.*Container first definition changed, will be restarted/);
    expect((await run(['exec', 'two', '-c', 'first', '--', 'sh', '-c', 'echo $WHO'])).stdout).toBe('first\n');
  });
});
