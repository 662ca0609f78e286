import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'protobufjs';

// Usage (dev time, when the CRI version changes):
//   npx esbuild --bundle --platform=node --log-level=warning apps/node-agent/tools/gen-cri-api.ts | node - CRI_API_GIT_DIR [COMMIT]
//   npx prettier --write apps/node-agent/data/cri-api.json
// Turns kubernetes/cri-api's runtime/v1 api.proto into the protobufjs JSON descriptor the kubelet loads with
// @grpc/proto-loader's fromJSON: the agent ships as one bundle and must not read .proto files at run time.

const PROTO_PATH = 'pkg/apis/runtime/v1/api.proto';
// Run from the repository root.
const OUT = path.resolve('apps/node-agent/data/cri-api.json');

function main(): void {
  const [gitDir, commitArg = 'HEAD'] = process.argv.slice(2);
  if (!gitDir) throw new Error('usage: gen-cri-api CRI_API_GIT_DIR [COMMIT]');
  const commit = execFileSync('git', ['-C', gitDir, 'rev-parse', commitArg], { encoding: 'utf8' }).trim();
  const proto = execFileSync('git', ['-C', gitDir, 'show', `${commit}:${PROTO_PATH}`], { encoding: 'utf8' });
  // Older cri-api versions annotate the file with gogoproto options: they only steer Go code generation.
  const stripped = proto
    .split('\n')
    .filter((line) => !/^\s*import\s+"github\.com\/gogo\/protobuf/.test(line) && !/^\s*option\s+\(gogoproto\./.test(line))
    .join('\n');
  const root = parse(stripped, { keepCase: true }).root;
  const json = { source: { repository: 'https://github.com/kubernetes/cri-api', commit, path: PROTO_PATH }, ...root.toJSON() };
  // Run prettier on the file afterwards (the repository lint checks it); 2-space JSON is close to its output.
  writeFileSync(process.env.OUT ?? OUT, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`wrote ${process.env.OUT ?? OUT} from ${commit}\n`);
}

main();
