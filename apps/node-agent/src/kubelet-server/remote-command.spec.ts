import { chooseProtocol, exitStatus, ExecOptionsError, frame, parseClientMessage, parseExecQuery } from './remote-command';

describe('remote command protocol', () => {
  it("chooses v5, else v4, from kubectl's offer, nothing it does not speak", () => {
    expect(chooseProtocol('v5.channel.k8s.io, v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io')).toBe('v5.channel.k8s.io');
    expect(chooseProtocol('v4.channel.k8s.io,v5.channel.k8s.io')).toBe('v5.channel.k8s.io');
    expect(chooseProtocol('v4.channel.k8s.io')).toBe('v4.channel.k8s.io');
    expect(chooseProtocol('channel.k8s.io, base64.channel.k8s.io')).toBeUndefined();
    expect(chooseProtocol(undefined)).toBeUndefined();
  });

  it('frames data behind its channel byte', () => {
    expect(frame(1, 'hi')).toEqual(Buffer.from([1, 104, 105]));
    expect(frame(3, Buffer.alloc(0))).toEqual(Buffer.from([3]));
  });

  it('reads stdin, resize and (v5 only) the close of stdin from the client', () => {
    expect(parseClientMessage(Buffer.from([0, 97, 10]), true)).toEqual({ kind: 'stdin', data: Buffer.from('a\n') });
    expect(parseClientMessage(frame(4, '{"Width":80,"Height":24}'), false)).toEqual({ kind: 'resize', width: 80, height: 24 });
    expect(parseClientMessage(frame(4, '{"Width":"x"}'), true)).toEqual({ kind: 'ignored' });
    expect(parseClientMessage(frame(4, 'not json'), true)).toEqual({ kind: 'ignored' });
    expect(parseClientMessage(Buffer.from([255, 0]), true)).toEqual({ kind: 'close', channel: 0 });
    expect(parseClientMessage(Buffer.from([255, 0]), false)).toEqual({ kind: 'ignored' });
    expect(parseClientMessage(Buffer.alloc(0), true)).toEqual({ kind: 'ignored' });
    expect(parseClientMessage(Buffer.from([1, 1]), true)).toEqual({ kind: 'ignored' });
  });

  it("parses the kubelet's exec query as upstream: flags on when 1, no stderr with a tty", () => {
    const q = new URLSearchParams('command=sh&command=-c&command=echo+a+b&input=1&output=1&error=1');
    expect(parseExecQuery(q)).toEqual({ command: ['sh', '-c', 'echo a b'], stdin: true, stdout: true, stderr: true, tty: false });
    expect(parseExecQuery(new URLSearchParams('command=sh&output=1&error=1&tty=1'))).toMatchObject({ stdout: true, stderr: false, tty: true });
    expect(() => parseExecQuery(new URLSearchParams('command=ls&output=true'))).toThrow(
      new ExecOptionsError('you must specify at least 1 of stdin, stdout, stderr'),
    );
    expect(() => parseExecQuery(new URLSearchParams('output=1'))).toThrow(ExecOptionsError);
    // An attach has no command.
    expect(parseExecQuery(new URLSearchParams('output=1&error=1'), true)).toEqual({ command: [], stdin: false, stdout: true, stderr: true, tty: false });
  });

  it("reports the command's end as the Status kubectl turns into its exit code", () => {
    expect(JSON.parse(exitStatus(['true'], 0))).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
    expect(JSON.parse(exitStatus(['sh', '-c', 'exit 3'], 3))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });
});
