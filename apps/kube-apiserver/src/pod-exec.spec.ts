import { KubeError, type KubeObject } from '@cerulean/kube';
import { execContainer, isUpgrade, kubeletExecPath, kubeletPortForwardPath, parsePodExecOptions, parsePortForwardPorts } from './pod-exec';

const pod = (spec: Record<string, unknown>, status: Record<string, unknown> = {}, annotations?: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', annotations }, spec, status }) as KubeObject;
const running = (name: string) => ({ name, state: { running: { startedAt: '2026-12-02T22:00:00Z' } } });

const error = (fn: () => unknown): KubeError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof KubeError) return err;
    throw err;
  }
  throw new Error('no error');
};

describe('pods/exec', () => {
  it("decodes kubectl's query: repeated command, true/false flags", () => {
    const q = new URLSearchParams('command=sh&command=-c&command=exit%203&container=app&stdin=true&stdout=true&stderr=true&tty=false');
    expect(parsePodExecOptions(q)).toEqual({ container: 'app', command: ['sh', '-c', 'exit 3'], stdin: true, stdout: true, stderr: true, tty: false });
  });

  it('refuses a flag that does not parse, no command and no stream, as 400', () => {
    expect(error(() => parsePodExecOptions(new URLSearchParams('command=ls&stdout=yes')))).toMatchObject({
      code: 400,
      message: 'strconv.ParseBool: parsing "yes": invalid syntax',
    });
    expect(error(() => parsePodExecOptions(new URLSearchParams('stdout=true')))).toMatchObject({
      code: 400,
      message: 'you must specify at least one command for the container',
    });
    expect(error(() => parsePodExecOptions(new URLSearchParams('command=ls')))).toMatchObject({
      code: 400,
      message: 'you must specify at least 1 of stdin, stdout, stderr',
    });
  });

  const opts = (container?: string) => ({ container, command: ['ls'], stdin: false, stdout: true, stderr: true, tty: false });

  it('chooses the container as upstream: named, the only one, or the default-container annotation', () => {
    const two = { nodeName: 'n1', containers: [{ name: 'a' }, { name: 'b' }] };
    const both = { phase: 'Running', containerStatuses: [running('a'), running('b')] };
    expect(execContainer(pod(two, both), opts('b'))).toEqual({ container: 'b', nodeName: 'n1' });
    expect(execContainer(pod({ nodeName: 'n1', containers: [{ name: 'a' }] }, { containerStatuses: [running('a')] }), opts())).toEqual({
      container: 'a',
      nodeName: 'n1',
    });
    expect(execContainer(pod(two, both, { 'kubectl.kubernetes.io/default-container': 'b' }), opts()).container).toBe('b');
    expect(error(() => execContainer(pod(two, both), opts()))).toMatchObject({
      code: 400,
      message: 'a container name must be specified for pod web, choose one of: [a b]',
    });
    expect(error(() => execContainer(pod(two, both), opts('nope')))).toMatchObject({ code: 400, message: 'container nope is not valid for pod web' });
  });

  it('refuses a pod on no node, a finished pod and a container that does not run', () => {
    expect(error(() => execContainer(pod({ containers: [{ name: 'a' }] }), opts()))).toMatchObject({
      code: 400,
      message: 'pod web does not have a host assigned',
    });
    expect(error(() => execContainer(pod({ nodeName: 'n1', containers: [{ name: 'a' }] }, { phase: 'Succeeded' }), opts()))).toMatchObject({
      code: 400,
      message: 'cannot exec into a container in a completed pod; current phase is Succeeded',
    });
    const waiting = { phase: 'Pending', containerStatuses: [{ name: 'a', state: { waiting: { reason: 'ContainerCreating' } } }] };
    expect(error(() => execContainer(pod({ nodeName: 'n1', containers: [{ name: 'a' }] }, waiting), opts()))).toMatchObject({
      code: 400,
      message: 'container a is not running in pod web',
    });
  });

  it("asks the kubelet with upstream's query names", () => {
    const path = kubeletExecPath(
      { namespace: 'default', pod: 'web', container: 'app' },
      { command: ['sh', '-c', 'echo a&b'], stdin: true, stdout: true, stderr: false, tty: true },
    );
    expect(path).toBe('/exec/default/web/app?command=sh&command=-c&command=echo+a%26b&input=1&output=1&tty=1');
    const attach = parsePodExecOptions(new URLSearchParams('container=app&stdout=true&stderr=true'), true);
    expect(kubeletExecPath({ namespace: 'default', pod: 'web', container: 'app' }, attach, 'attach')).toBe('/attach/default/web/app?output=1&error=1');
  });

  it('tells an upgrade by its Connection and Upgrade headers', () => {
    expect(isUpgrade({ connection: 'Upgrade', upgrade: 'websocket' })).toBe(true);
    expect(isUpgrade({ connection: 'keep-alive, upgrade', upgrade: 'SPDY/3.1' })).toBe(true);
    expect(isUpgrade({ connection: 'keep-alive' })).toBe(false);
    expect(isUpgrade({ connection: 'Upgrade' })).toBe(false);
  });
});

describe('pods/portforward', () => {
  it("checks the optional ports and passes them on to the kubelet's path", () => {
    const ports = parsePortForwardPorts(new URLSearchParams('ports=8080&ports=9090'));
    expect(ports).toEqual([8080, 9090]);
    expect(kubeletPortForwardPath({ namespace: 'default', pod: 'web' }, ports)).toBe('/portForward/default/web?port=8080&port=9090');
    expect(kubeletPortForwardPath({ namespace: 'default', pod: 'web' }, [])).toBe('/portForward/default/web');
    expect(() => parsePortForwardPorts(new URLSearchParams('ports=0'))).toThrow('port "0" must be between 1 and 65535, inclusive');
    expect(() => parsePortForwardPorts(new URLSearchParams('ports=http'))).toThrow('must be between 1 and 65535');
  });
});
