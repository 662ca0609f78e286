import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NODE_AGENT_FLAGS } from '../node-image.builder';
import { bundleApp } from './bundle-kube-apiserver';

// A program shaped like the agent and the API server: modules loaded at start, an entry that starts nothing when
// CERULEAN_LOAD_ONLY is set. Run, it prints where it is and the stack of an error it makes.
const ENTRY = `
const { greet } = require('./greeter');
if (!process.env.CERULEAN_LOAD_ONLY) {
  const err = new Error('here'); // MARK
  process.stdout.write(JSON.stringify({ greeting: greet('node'), dirname: __dirname, filename: __filename, stack: err.stack }));
}
`;
const GREETER = `
const table = Object.fromEntries(Array.from({ length: 200 }, (_, i) => ['k' + i, (x) => x + i]));
exports.greet = (who) => 'hello ' + who + ' ' + table.k7(1);
`;

describe('bundleApp with a code cache (real esbuild and node)', () => {
  let dir: string;
  let out: string;
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [...args, path.join(out, 'main.js')], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cerulean-bundle-'));
    writeFileSync(path.join(dir, 'entry.js'), ENTRY);
    writeFileSync(path.join(dir, 'greeter.js'), GREETER);
    out = path.join(dir, 'out');
    const r = await bundleApp(path.join(dir, 'entry.js'), out, { codeCache: { nodeFlags: ['--optimize-for-size'] } });
    expect(r.codeCacheBytes).toBeGreaterThan(0);
    expect(r.outFile).toBe(path.join(out, 'app.js'));
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the bundle, its loader and its code cache', () => {
    for (const f of ['main.js', 'app.js', 'app.js.cache']) expect(existsSync(path.join(out, f))).toBe(true);
  });

  it('runs the bundle through the loader as Node would: its own dirname, filename, lines and columns', () => {
    const r = run(['--optimize-for-size']);
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as { greeting: string; dirname: string; filename: string; stack: string };
    expect(got).toMatchObject({ greeting: 'hello node 8', dirname: out, filename: path.join(out, 'app.js') });
    const lines = readFileSync(path.join(out, 'app.js'), 'latin1').split('\n');
    const line = lines.findIndex((l) => l.includes('new Error("here")'));
    expect(line).toBeGreaterThanOrEqual(0);
    const column = lines[line].indexOf('new Error("here")');
    expect(got.stack.split('\n')[1]).toContain(`${path.join(out, 'app.js')}:${line + 1}:${column + 1}`);
  });

  it('uses the cache with the flags it was made with, and compiles from source otherwise', () => {
    expect(JSON.parse(run(['--optimize-for-size'], { CERULEAN_LOAD_ONLY: '1' }).stdout)).toEqual({ codeCache: 'accepted' });
    const other = run([], { CERULEAN_LOAD_ONLY: '1' });
    expect(other.status).toBe(0);
    expect(JSON.parse(other.stdout)).toEqual({ codeCache: 'rejected' });
    writeFileSync(path.join(out, 'app.js.cache'), Buffer.from('not a code cache'));
    expect(JSON.parse(run(['--optimize-for-size'], { CERULEAN_LOAD_ONLY: '1' }).stdout)).toEqual({ codeCache: 'rejected' });
    rmSync(path.join(out, 'app.js.cache'));
    expect(JSON.parse(run(['--optimize-for-size'], { CERULEAN_LOAD_ONLY: '1' }).stdout)).toEqual({ codeCache: 'none' });
    expect(JSON.parse(run(['--optimize-for-size']).stdout)).toMatchObject({ greeting: 'hello node 8' });
  });

  it('fails the build when the program cannot be loaded to make its cache', async () => {
    writeFileSync(path.join(dir, 'broken.js'), "if (process.env.CERULEAN_LOAD_ONLY) throw new Error('cannot load here');\n");
    await expect(bundleApp(path.join(dir, 'broken.js'), path.join(dir, 'broken'), { codeCache: { nodeFlags: [] } })).rejects.toThrow(
      /code cache of .*app\.js not made \(exit 1\): [\s\S]*cannot load here/,
    );
  }, 60_000);

  it('the agent and the API server from npm run build carry caches this Node accepts with their flags', () => {
    const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: __dirname, encoding: 'utf8' }).trim();
    const load = (bundle: string, flags: string[]) =>
      execFileSync(process.execPath, [...flags, path.join(root, 'dist/bundle', bundle, 'main.js')], {
        env: { ...process.env, CERULEAN_LOAD_ONLY: '1' },
        encoding: 'utf8',
      });
    expect(JSON.parse(load('node-agent', NODE_AGENT_FLAGS))).toEqual({ codeCache: 'accepted' });
    expect(JSON.parse(load('kube-apiserver', []))).toEqual({ codeCache: 'accepted' });
  });
});
