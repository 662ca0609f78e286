import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs argv[0] with the rest as arguments (stdin from `input`) and resolves with its stdout; rejects when it fails. */
export type CommandRunner = (argv: string[], input?: string) => Promise<string>;

/** How a failed command is named in its error: a script is not repeated whole. */
const shown = (argv: string[]): string => (argv[1] === '-c' ? `${argv[0]} -c <script>` : argv.join(' '));

/** `arg` as one word for sh, quoted. */
export const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a program in a new process started from the agent itself: bounded in time, the program's own complaint (stderr)
 * in the error. A program that does not read its input (iptables-save) may close the pipe: that is no error, and must
 * not crash the agent. Every start forks the whole agent (about 6.6 ms of its CPU on a slow machine, 2026-12-07), so
 * only what runs long and seldom (an image import) comes here; everything else goes through `runOnNode`.
 */
export function spawnOnNode(argv: string[], input?: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0], argv.slice(1), { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${shown(argv)}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

interface Pending {
  argv: string[];
  timeoutMs: number;
  err: string;
  input?: string;
  resolve: (stdout: string) => void;
  reject: (err: Error) => void;
  /** Set when the command is first in line: the shell is running it. */
  timer?: NodeJS.Timeout;
}

/**
 * One long-lived `sh` that runs the agent's commands (ip, iptables, mount) one after the other, so the agent forks
 * once instead of once per command: the small shell forks for each command, at a fraction of the cost. Each command
 * reads its input from a file (or /dev/null: never the shell's own script), writes its stderr to a file, and its
 * stdout into the shell's, followed by a line with a marker no output can hold, its number and its exit status.
 * The shell leads its own process group: a command that overruns its bound is killed with the shell and all it started
 * (a `timeout` wrapper would cost one more program start per command), and what waited behind it fails too. A shell that
 * dies fails what it was running. The next command starts a new one. An idle shell does not keep the agent alive.
 */
export class NodeShell {
  private child?: ChildProcess;
  private dir?: string;
  private out = '';
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private sending: Promise<void> = Promise.resolve();
  private readonly marker = `__cerulean_done_${randomBytes(12).toString('hex')}`;

  constructor(private readonly shell = '/bin/sh') {}

  /** Where commands' input and stderr files are kept (tests). */
  get workDir(): string | undefined {
    return this.dir;
  }

  /** The shell's process id while one runs (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  run(argv: string[], input?: string, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = this.ensure();
      const dir = this.dir as string;
      const id = ++this.seq;
      const err = join(dir, `${id}.err`);
      const file = input === undefined ? undefined : join(dir, `${id}.in`);
      this.pending.set(id, { argv, timeoutMs, err, input: file, resolve, reject });
      this.hold(true);
      this.arm();
      const line =
        `${argv.map(shellQuote).join(' ')} <${shellQuote(file ?? '/dev/null')} 2>${shellQuote(err)}; ` + `printf '\\n%s %s %s\\n' ${this.marker} ${id} "$?"\n`;
      // Lines go out in the order of the calls (an input file is written first), so the shell runs them in that order.
      this.sending = this.sending
        .then(() => (file === undefined ? undefined : writeFile(file, input as string)))
        .then(
          () => (this.child === child ? void child.stdin?.write(line) : undefined),
          (e: Error) => this.settle(id, undefined, e),
        );
    });
  }

  /** Stops the shell; what it was running fails. */
  close(): void {
    if (this.child) this.fail(this.child, "the node's shell was closed");
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    this.dir ??= mkdtempSync(join(tmpdir(), 'cerulean-sh-'));
    const child = spawn(this.shell, ['-s'], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    this.child = child;
    this.out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.read(chunk));
    child.stdin?.on('error', () => undefined);
    child.on('error', (e) => this.fail(child, `the node's shell could not run: ${e.message}`));
    child.on('exit', (code, signal) => this.fail(child, `the node's shell exited (${signal ?? `code ${code}`})`));
    return child;
  }

  /** Completed commands are cut off the front of the shell's output as their marker lines arrive. */
  private read(chunk: string): void {
    this.out += chunk;
    for (;;) {
      const at = this.out.indexOf(`\n${this.marker} `);
      const end = at < 0 ? -1 : this.out.indexOf('\n', at + 1);
      if (end < 0) return;
      const [id, status] = this.out
        .slice(at + this.marker.length + 2, end)
        .split(' ')
        .map(Number);
      const stdout = this.out.slice(0, at);
      this.out = this.out.slice(end + 1);
      this.settle(id, { stdout, status });
    }
  }

  private settle(id: number, result?: { stdout: string; status: number }, failure?: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    if (this.pending.size) this.arm();
    else this.hold(false);
    const cleanup = () => Promise.all([rm(entry.err, { force: true }), entry.input ? rm(entry.input, { force: true }) : undefined]).catch(() => undefined);
    if (failure || !result) {
      void cleanup();
      entry.reject(new Error(`${shown(entry.argv)}: ${failure?.message ?? 'no answer'}`, { cause: failure }));
    } else if (result.status === 0) {
      void cleanup();
      entry.resolve(result.stdout);
    } else {
      readFile(entry.err, 'utf8')
        .catch(() => '')
        .then((stderr) => {
          void cleanup();
          const why = stderr.trim() || `exit code ${result.status}`;
          entry.reject(Object.assign(new Error(`${shown(entry.argv)}: ${why}`), { code: result.status }));
        });
    }
  }

  /**
   * Starts the clock of the command the shell is running: the first in line (commands waiting behind it are not timed).
   * When it runs out, the shell's process group is killed.
   */
  private arm(): void {
    const [first] = this.pending.values();
    const child = this.child;
    if (!first || first.timer || !child) return;
    first.timer = setTimeout(
      () => this.fail(child, `the node's shell was stopped: ${shown(first.argv)} timed out`, first, `timed out after ${first.timeoutMs} ms`),
      first.timeoutMs,
    );
  }

  /** Kills `child` with what it runs, fails every command sent to it, and forgets it: the next command starts a new shell. */
  private fail(child: ChildProcess, message: string, head?: Pending, headMessage?: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL'); // the group is gone already
    }
    child.stdin?.destroy();
    child.stdout?.destroy();
    for (const [id, entry] of [...this.pending]) this.settle(id, undefined, new Error(entry === head && headMessage ? headMessage : message));
  }

  /** Keeps the agent alive while commands run, not while the shell idles. */
  private hold(busy: boolean): void {
    const child = this.child;
    if (!child) return;
    for (const handle of [child, child.stdin, child.stdout] as Array<{ ref?: () => void; unref?: () => void } | null>) {
      if (busy) handle?.ref?.();
      else handle?.unref?.();
    }
  }
}

const nodeShell = new NodeShell();

/**
 * The node agent's one way to run a short program on its node (ip, iptables, mount, sh): through the node's shell,
 * bounded in time, the program's own complaint (stderr) in the error.
 */
export function runOnNode(argv: string[], input?: string, timeoutMs = 30_000): Promise<string> {
  return nodeShell.run(argv, input, timeoutMs);
}
