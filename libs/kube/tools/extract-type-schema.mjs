// Regenerates ../data/type-schema.json: upstream's structured-merge-diff schema (field names, scalar types,
// list and map shapes, associative list keys) for the kinds this server serves and every type they reach.
// Source: client-go's applyconfigurations/internal/internal.go (Debian's golang-k8s-client-go-dev, unpacked with
// ../../../../shared/tools/kubectl/get-sid-package.sh). Usage: node extract-type-schema.mjs path/to/internal.go
/* global process, console */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOTS = [
  'io.k8s.api.core.v1.Namespace',
  'io.k8s.api.core.v1.Node',
  'io.k8s.api.core.v1.Pod',
  'io.k8s.api.core.v1.Service',
  'io.k8s.api.core.v1.Endpoints',
  'io.k8s.api.core.v1.ConfigMap',
  'io.k8s.api.core.v1.Secret',
  'io.k8s.api.core.v1.ServiceAccount',
  'io.k8s.api.core.v1.Event',
  'io.k8s.api.core.v1.ResourceQuota',
  'io.k8s.api.core.v1.LimitRange',
  'io.k8s.api.core.v1.PersistentVolumeClaim',
  'io.k8s.api.core.v1.PersistentVolume',
  'io.k8s.api.core.v1.Binding',
  'io.k8s.api.apps.v1.Deployment',
  'io.k8s.api.apps.v1.ReplicaSet',
  'io.k8s.api.apps.v1.DaemonSet',
  'io.k8s.api.apps.v1.StatefulSet',
  'io.k8s.api.batch.v1.Job',
  'io.k8s.api.batch.v1.CronJob',
  'io.k8s.api.discovery.v1.EndpointSlice',
  'io.k8s.api.coordination.v1.Lease',
  'io.k8s.api.storage.v1.StorageClass',
  'io.k8s.api.policy.v1.PodDisruptionBudget',
  'io.k8s.api.policy.v1.Eviction',
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
  'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler',
  'io.k8s.api.autoscaling.v1.Scale',
  'io.k8s.api.rbac.v1.Role',
  'io.k8s.api.rbac.v1.RoleBinding',
  'io.k8s.api.rbac.v1.ClusterRole',
  'io.k8s.api.rbac.v1.ClusterRoleBinding',
  'io.k8s.api.events.v1.Event',
  'io.k8s.api.authorization.v1.SelfSubjectAccessReview',
  'io.k8s.api.authentication.v1.TokenRequest',
  '__untyped_atomic_',
  '__untyped_deduced_',
];

const src = readFileSync(process.argv[2], 'utf8');
const yamlText = src.slice(src.indexOf('typed.YAMLObject(`') + 'typed.YAMLObject(`'.length, src.lastIndexOf('`)'));
const all = new Map(parse(yamlText).types.map((t) => [t.name, t]));
const keep = new Map();
const visit = (name) => {
  if (keep.has(name)) return;
  const t = all.get(name);
  if (!t) throw new Error(`type ${name} not in the schema`);
  keep.set(name, t);
  const refs = (x) => {
    if (x && typeof x === 'object')
      for (const [k, v] of Object.entries(x))
        if (k === 'namedType') visit(v);
        else refs(v);
  };
  refs(t);
};
// Subresource kinds that are never applied (Binding, Eviction, Scale, reviews) are not in the schema: skipped.
ROOTS.filter((r) => all.has(r)).forEach(visit);
const types = Object.fromEntries([...keep].map(([name, { name: _n, ...rest }]) => [name, rest]));
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'type-schema.json');
writeFileSync(out, JSON.stringify({ source: 'k8s.io/client-go applyconfigurations/internal (structured-merge-diff schema)', types }) + '\n');
console.log(`${keep.size} types written to ${out}`);
