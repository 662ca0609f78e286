import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { NodeShell, shellQuote, spawnOnNode } from './exec';

/** Processes of process group `pgid` that still run (a killed one may wait a while as a zombie for its reaper). */
function liveMembersOfGroup(pgid: number): string[] {
  const live: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const [, rest] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ');
      const [state, , pgrp] = rest.split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') live.push(`${pid} ${state}`);
    } catch {
      // gone meanwhile
    }
  }
  return live;
}

// A real /bin/sh and real programs: the shell protocol is what is under test.
describe('NodeShell', () => {
  let shell: NodeShell;
  beforeEach(() => (shell = new NodeShell()));
  afterEach(() => shell.close());

  it('returns stdout exactly, with or without a final newline, and passes every argument as one word', async () => {
    expect(await shell.run(['printf', '%s|%s|%s', "it's", 'two words', 'a\nb'])).toBe("it's|two words|a\nb");
    expect(await shell.run(['printf', 'x\n\n'])).toBe('x\n\n');
    expect(await shell.run(['true'])).toBe('');
    expect(await shell.run(['echo', '$HOME', '`id`', '*'])).toBe('$HOME `id` *\n');
  });

  it('feeds a command its input, and a command without input gets none (never the shell script)', async () => {
    expect(await shell.run(['cat'], 'line 1\nline 2\n')).toBe('line 1\nline 2\n');
    expect(await shell.run(['cat'])).toBe('');
    expect(await shell.run(['sh', '-c', 'read x; echo "got:$x"'], 'hello\n')).toBe('got:hello\n');
  });

  it('runs every command in the one shell, and concurrent callers each get their own answer', async () => {
    await shell.run(['true']);
    const pid = shell.pid;
    const outs = await Promise.all(Array.from({ length: 25 }, (_, i) => shell.run(['sh', '-c', `echo out-${i}; echo noise >&2`])));
    expect(outs).toEqual(Array.from({ length: 25 }, (_, i) => `out-${i}\n`));
    expect(shell.pid).toBe(pid);
  });

  it('rejects a failed command with its stderr, or its exit code when it said nothing, and goes on', async () => {
    await expect(shell.run(['sh', '-c', 'echo "no such route" >&2; exit 2'])).rejects.toThrow('sh -c <script>: no such route');
    await expect(shell.run(['false'])).rejects.toThrow('false: exit code 1');
    await expect(shell.run(['/nonexistent/program', 'arg'])).rejects.toThrow(/^\/nonexistent\/program arg: .+/);
    expect(await shell.run(['echo', 'still here'])).toBe('still here\n');
  });

  it('bounds a command in time and stays usable', async () => {
    const t0 = Date.now();
    await expect(shell.run(['sleep', '10'], undefined, 1000)).rejects.toThrow('sleep 10: timed out after 1000 ms');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await shell.run(['echo', 'after'])).toBe('after\n');
  });

  it('times a command from when the shell runs it, not from when it was queued behind a slow one', async () => {
    const slow = shell.run(['sleep', '2'], undefined, 5000);
    const behind = shell.run(['echo', 'queued'], undefined, 100);
    await expect(behind).resolves.toBe('queued\n');
    await expect(slow).resolves.toBe('');
  });

  it('kills an overrunning command with all it started, fails what waited behind it, and goes on in a new shell', async () => {
    await shell.run(['true']);
    const pid = shell.pid as number;
    const stuck = shell.run(['sh', '-c', 'trap "" TERM; sleep 30 & sleep 30'], undefined, 1000);
    const behind = shell.run(['echo', 'never'], undefined, 5000);
    await expect(stuck).rejects.toThrow('sh -c <script>: timed out after 1000 ms');
    await expect(behind).rejects.toThrow("echo never: the node's shell was stopped: sh -c <script> timed out");
    await new Promise((r) => setTimeout(r, 200));
    expect(liveMembersOfGroup(pid)).toEqual([]); // the shell and both sleeps
    expect(await shell.run(['echo', 'new shell'])).toBe('new shell\n');
    expect(shell.pid).not.toBe(pid);
  });

  it('fails what a dead shell was running and starts a new one for the next command', async () => {
    await shell.run(['true']);
    const pid = shell.pid as number;
    const running = shell.run(['sleep', '10']);
    await new Promise((r) => setTimeout(r, 200));
    process.kill(pid, 'SIGKILL');
    await expect(running).rejects.toThrow(/^sleep 10: the node's shell exited/);
    expect(await shell.run(['echo', 'again'])).toBe('again\n');
    expect(shell.pid).not.toBe(pid);
  });

  it('leaves no input or stderr files behind', async () => {
    await shell.run(['cat'], 'x');
    await shell.run(['false']).catch(() => undefined);
    await shell.run(['sh', '-c', 'echo e >&2']);
    await new Promise((r) => setTimeout(r, 100)); // the files are removed after the answer
    expect(readdirSync(shell.workDir as string)).toEqual([]);
  });
});

describe('shellQuote', () => {
  it('makes one sh word of anything', () => {
    for (const s of ['', 'a b', "it's", '$(id)', '"\\', 'x\ny']) expect(execFileSync('sh', ['-c', `printf %s ${shellQuote(s)}`], { encoding: 'utf8' })).toBe(s);
  });
});

describe('spawnOnNode', () => {
  it('runs a program in its own process with input, and rejects with its stderr', async () => {
    expect(await spawnOnNode(['cat'], 'in')).toBe('in');
    await expect(spawnOnNode(['sh', '-c', 'echo bad >&2; exit 3'])).rejects.toThrow('sh -c <script>: bad');
  });
});
