import { execFile } from 'node:child_process';

/** Runs argv[0] with the rest as arguments (stdin from `input`) and resolves with its stdout; rejects when it fails. */
export type CommandRunner = (argv: string[], input?: string) => Promise<string>;

/**
 * The node agent's one way to run a program on its node (ip, iptables, ctr, sh): bounded in time, the program's own
 * complaint (stderr) in the error. A program that does not read its input (iptables-save) may close the pipe: that
 * is no error, and must not crash the agent.
 */
export function runOnNode(argv: string[], input?: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0], argv.slice(1), { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const shown = argv[1] === '-c' ? `${argv[0]} -c <script>` : argv.join(' ');
      if (err) reject(new Error(`${shown}: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}
