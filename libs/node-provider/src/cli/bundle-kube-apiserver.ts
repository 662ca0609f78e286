import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { findRepoRoot } from '../node-image.builder';

// Usage (run by `npm run build` after tsc): node dist/libs/node-provider/src/cli/bundle-kube-apiserver.js [ENTRY OUT_DIR]
// Bundles the API server and its npm dependencies (etcd3, @grpc/grpc-js, …) into OUT_DIR/main.js, with the few
// files they read at run time beside it, so the node image carries one folder and no node_modules.
// esbuild is a build-time tool (devDependency): nothing in the running platform imports this file.

export interface BundleResult {
  outFile: string;
  bytes: number;
  durationMs: number;
}

/** etcd3 loads its gRPC definitions from `${__dirname}/../proto/`; in a bundle they sit beside main.js. */
const ETCD3_PROTO_DIR = 'etcd3-proto';

const etcd3Protos: Plugin = {
  name: 'etcd3-protos',
  setup(b) {
    b.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const needle = '${__dirname}/../proto/';
      // A new etcd3 that loads its protos differently must fail the build here, not the API server at start.
      if (!source.includes(needle)) throw new Error(`${args.path} no longer loads ${needle}rpc.proto: update the etcd3-protos bundling step`);
      cpSync(path.join(path.dirname(args.path), '../proto'), path.join(b.initialOptions.outdir ?? '', ETCD3_PROTO_DIR), { recursive: true });
      return { contents: source.split(needle).join(`\${__dirname}/${ETCD3_PROTO_DIR}/`), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

/** One self-contained CommonJS file for Node 20 at `outDir/main.js` (outDir is emptied first). */
export async function bundleApp(entry: string, outDir: string): Promise<BundleResult> {
  const started = performance.now();
  const repoRoot = findRepoRoot(__dirname);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { main: entry },
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
    // Optional native speed-ups with pure-JS fallbacks: leave them out rather than fail.
    external: ['cpu-features', 'bufferutil', 'utf-8-validate'],
    nodePaths: [path.join(repoRoot, 'node_modules')],
    plugins: [etcd3Protos],
  });
  const outFile = path.join(outDir, 'main.js');
  // Node holds a source as a one-byte string only when every character is Latin-1: hold the bundle to plain ASCII.
  const source = readFileSync(outFile, 'latin1');
  const wide = source.search(/\P{ASCII}/u);
  if (wide >= 0) throw new Error(`${outFile} has a non-ASCII character at offset ${wide}: ${JSON.stringify(source.slice(Math.max(0, wide - 40), wide + 40))}`);
  return { outFile, bytes: statSync(outFile).size, durationMs: performance.now() - started };
}

async function main(): Promise<void> {
  const root = findRepoRoot(__dirname);
  const [entryArg, outArg] = process.argv.slice(2);
  const entry = path.resolve(entryArg ?? path.join(root, 'dist/apps/kube-apiserver/src/main.js'));
  const outDir = path.resolve(outArg ?? path.join(root, 'dist/bundle/kube-apiserver'));
  if (!entryArg && !existsSync(entry)) {
    // The API server is being written on another branch; until it lands the image has no bundle (see NodeImageBuilder).
    console.log(`bundle: ${path.relative(root, entry)} not built, no API server bundle`);
    return;
  }
  const r = await bundleApp(entry, outDir);
  console.log(`bundle: ${path.relative(root, r.outFile)} ${(r.bytes / 2 ** 20).toFixed(2)} MiB in ${(r.durationMs / 1000).toFixed(2)} s`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? `bundle failed: ${err.message}` : err);
    process.exit(1);
  });
}
