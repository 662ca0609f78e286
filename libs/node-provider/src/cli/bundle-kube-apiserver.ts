import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { Root } from 'protobufjs';
import { APP_FILE, CODE_CACHE_FILE, CODE_CACHE_OUT_ENV, LOAD_ONLY_ENV } from '../code-cache';
import { findRepoRoot, NODE_AGENT_FLAGS } from '../node-image.builder';

// Usage (run by `npm run build` after tsc):
//   node dist/libs/node-provider/src/cli/bundle-kube-apiserver.js [ENTRY OUT_DIR [--node-agent]]
// Bundles the API server (or ENTRY) and its npm dependencies (etcd3, @grpc/grpc-js, …) into OUT_DIR/app.js, with the
// few files they read at run time beside it, so the node image carries one folder and no node_modules. OUT_DIR/main.js
// is the loader that runs it (cli/app-loader.ts) with OUT_DIR/app.js.cache, its V8 code cache, made here by this
// Node binary with the flags the program runs with in the image (--node-agent: the agent's, NODE_AGENT_FLAGS).
// esbuild is a build-time tool (devDependency): nothing in the running platform imports this file.

export interface BundleResult {
  outFile: string;
  bytes: number;
  durationMs: number;
  /** The code cache's size, when one was made. */
  codeCacheBytes?: number;
}

export interface BundleOptions {
  /**
   * Make OUT_DIR/app.js.cache by loading the bundle (its entry must start nothing when CERULEAN_LOAD_ONLY is set) in
   * this Node binary with the flags the program runs with: V8 rejects a cache made with other V8 flags.
   */
  codeCache?: { nodeFlags: readonly string[] };
}

/** The loader every bundle starts from (cli/app-loader.ts: its .js in dist, its source under ts-jest). */
const APP_LOADER = require.resolve('./app-loader');
/** Loading the agent or the API server takes about 0.5 s here; a program that does not stop when loaded must fail the build. */
const CODE_CACHE_TIMEOUT_MS = 60_000;

/** The gRPC client builder the bundled etcd3 uses instead of @grpc/proto-loader (libs/kube). */
const GRPC_CLIENTS = path.resolve(__dirname, '../../../kube/src/grpc-clients');

/**
 * etcd3 parses its .proto files with @grpc/proto-loader when it is loaded: ~70 ms of the API server's start here, plus
 * loading proto-loader itself, on every control plane's start. In the bundle, the definitions are parsed once at
 * build time (protobufjs, with the same keepCase) and the clients built from that JSON by grpcClients, which gives
 * the same objects as proto-loader with etcd3's options.
 */
const ETCD3_LOAD =
  /const proto_loader_1 = require\("@grpc\/proto-loader"\);([\s\S]*?)const packageDefinition = \(0, proto_loader_1\.loadSync\)\(`\$\{__dirname\}\/\.\.\/proto\/rpc\.proto`, \{\s*keepCase: true,\s*longs: String,\s*enums: String,\s*defaults: true,\s*oneofs: true,\s*\}\);\s*const services = grpc\.loadPackageDefinition\(packageDefinition\);/;

const etcd3Protos: Plugin = {
  name: 'etcd3-protos',
  setup(b) {
    b.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      // A new etcd3 that loads its protos differently must fail the build here, not the API server at start.
      if (!ETCD3_LOAD.test(source)) throw new Error(`${args.path} no longer loads rpc.proto as the etcd3-protos bundling step expects: update it`);
      const root = new Root();
      root.loadSync(path.join(path.dirname(args.path), '../proto/rpc.proto'), { keepCase: true });
      const clients = `{ etcdserverpb: require(${JSON.stringify(GRPC_CLIENTS)}).grpcClients(${JSON.stringify(root.toJSON())}, "etcdserverpb") }`;
      return {
        contents: source.replace(ETCD3_LOAD, (_, between: string) => `${between}const services = ${clients};`),
        loader: 'js',
        resolveDir: path.dirname(args.path),
      };
    });
  },
};

/** A self-contained CommonJS program for Node 20 in `outDir` (emptied first): app.js, its loader main.js, its code cache. */
export async function bundleApp(entry: string, outDir: string, options: BundleOptions = {}): Promise<BundleResult> {
  const started = performance.now();
  const repoRoot = findRepoRoot(__dirname);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const common: BuildOptions = {
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Whitespace and comments out, names kept: stack traces still name every function. Node holds a script's source
    // in memory for as long as it runs, once per process (each node's kubelet, each control plane), and a single
    // non-ASCII character in a kept comment made the whole 1.9 MB source a two-byte string (3.8 MB of heap).
    minifyWhitespace: true,
    minifyIdentifiers: false,
    minifySyntax: false,
    keepNames: true,
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'warning',
  };
  await build({
    ...common,
    entryPoints: { [path.basename(APP_FILE, '.js')]: entry },
    // Optional native speed-ups with pure-JS fallbacks: leave them out rather than fail.
    external: ['cpu-features', 'bufferutil', 'utf-8-validate'],
    nodePaths: [path.join(repoRoot, 'node_modules')],
    plugins: [etcd3Protos],
  });
  await build({ ...common, entryPoints: { main: APP_LOADER } });
  const outFile = path.join(outDir, APP_FILE);
  // Node holds a source as a one-byte string only when every character is Latin-1: hold the bundle to plain ASCII.
  const source = readFileSync(outFile, 'latin1');
  const wide = source.search(/\P{ASCII}/u);
  if (wide >= 0) throw new Error(`${outFile} has a non-ASCII character at offset ${wide}: ${JSON.stringify(source.slice(Math.max(0, wide - 40), wide + 40))}`);
  const codeCacheBytes = options.codeCache ? makeCodeCache(outDir, options.codeCache.nodeFlags) : undefined;
  return { outFile, bytes: statSync(outFile).size, durationMs: performance.now() - started, codeCacheBytes };
}

/** Loads the bundle in this Node binary with `nodeFlags` and keeps the code cache of what it compiled. */
function makeCodeCache(outDir: string, nodeFlags: readonly string[]): number {
  const out = path.join(outDir, CODE_CACHE_FILE);
  const r = spawnSync(process.execPath, [...nodeFlags, path.join(outDir, 'main.js')], {
    env: { ...process.env, [LOAD_ONLY_ENV]: '1', [CODE_CACHE_OUT_ENV]: out },
    encoding: 'utf8',
    timeout: CODE_CACHE_TIMEOUT_MS,
  });
  const report = /^\{.*"written":(\d+).*\}$/m.exec(r.stdout ?? '');
  if (r.status !== 0 || !report || !existsSync(out)) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    // Node prints the failing line of the minified bundle before the error: the error's own line says more.
    const output = (r.stderr || r.stdout || '').trim();
    const error = /^\w*Error\b.*$/m.exec(output)?.[0] ?? output.slice(-500);
    throw new Error(`code cache of ${path.join(outDir, APP_FILE)} not made (${why}): ${error}`);
  }
  return Number(report[1]);
}

async function main(): Promise<void> {
  const root = findRepoRoot(__dirname);
  const args = process.argv.slice(2);
  const nodeAgent = args.includes('--node-agent');
  const [entryArg, outArg] = args.filter((a) => !a.startsWith('--'));
  const entry = path.resolve(entryArg ?? path.join(root, 'dist/apps/kube-apiserver/src/main.js'));
  const outDir = path.resolve(outArg ?? path.join(root, 'dist/bundle/kube-apiserver'));
  if (!entryArg && !existsSync(entry)) {
    // The API server is being written on another branch; until it lands the image has no bundle (see NodeImageBuilder).
    console.log(`bundle: ${path.relative(root, entry)} not built, no API server bundle`);
    return;
  }
  const r = await bundleApp(entry, outDir, { codeCache: { nodeFlags: nodeAgent ? NODE_AGENT_FLAGS : [] } });
  const cache = r.codeCacheBytes === undefined ? '' : `, code cache ${(r.codeCacheBytes / 2 ** 20).toFixed(2)} MiB`;
  console.log(`bundle: ${path.relative(root, r.outFile)} ${(r.bytes / 2 ** 20).toFixed(2)} MiB${cache} in ${(r.durationMs / 1000).toFixed(2)} s`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? `bundle failed: ${err.message}` : err);
    process.exit(1);
  });
}
