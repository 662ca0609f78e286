import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { Root } from 'protobufjs';
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
