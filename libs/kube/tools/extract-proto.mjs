// Regenerates ../data/proto.json: upstream's protobuf message definitions (k8s.io/api generated.proto files of the
// served groups and the apimachinery types they use) as a protobufjs JSON descriptor, so request bodies that
// client-go's typed clients send as application/vnd.kubernetes.protobuf can be read. Sources: Debian's
// golang-k8s-api-dev and golang-k8s-apimachinery-dev (unpack them with shared/tools/kubectl/get-sid-package.sh).
// Usage: node extract-proto.mjs <api-dev root>/usr/share/gocode/src <apimachinery-dev root>/usr/share/gocode/src
/* global process, console */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const roots = process.argv.slice(2);
const FILES = [
  'core/v1',
  'apps/v1',
  'batch/v1',
  'discovery/v1',
  'coordination/v1',
  'policy/v1',
  'autoscaling/v1',
  'autoscaling/v2',
  'rbac/v1',
  'events/v1',
  'authorization/v1',
  'authentication/v1',
].map((gv) => `k8s.io/api/${gv}/generated.proto`);

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => roots.map((r) => join(r, target)).find((p) => existsSync(p)) ?? target;
root.loadSync(FILES, { keepCase: true });
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'proto.json');
writeFileSync(out, JSON.stringify(root.toJSON()) + '\n');
console.log(`written ${out}`);
