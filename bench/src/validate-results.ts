/** Every scenario id a complete run reports. */
export const REQUIRED_SCENARIOS = [
  'provision-1',
  'provision-3',
  'provision-10',
  'delete-1',
  'delete-3',
  'delete-10',
  'scale-out',
  'scale-in',
  'read-c1',
  'read-c50',
  'read-c200',
  'read-rate200',
  'write-tags',
  'write-pool-count',
  'queue-dispatch',
  'status-polling-throughput',
  'status-polling',
  'memory-api',
  'memory-worker',
  'memory-node',
  'pods-1',
  'pods-density',
];
export const REQUIRED_TARGETS = [
  'provision-3',
  'provision-10',
  'scale-out',
  'read-c50',
  'read-rate200',
  'status-polling',
  'queue-dispatch',
  'memory-node',
  'pods-1',
  'pods-density',
];

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const finite = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

function checkValue(v: unknown, where: string, problems: string[]): void {
  if (!isObj(v)) {
    problems.push(`${where} is missing`);
    return;
  }
  if ('value' in v) {
    if (!finite(v.value) || (v.value as number) < 0) problems.push(`${where}.value is not a non-negative number`);
    return;
  }
  for (const k of ['n', 'median', 'p95', 'min', 'max']) if (!finite(v[k])) problems.push(`${where}.${k} is not a number`);
  if (finite(v.n) && (v.n as number) < 1) problems.push(`${where}.n is below 1`);
  if (finite(v.min) && finite(v.median) && finite(v.p95) && finite(v.max)) {
    const [min, med, p95, max] = [v.min, v.median, v.p95, v.max] as number[];
    if (!(min <= med && med <= p95 && p95 <= max)) problems.push(`${where}: not min ≤ median ≤ p95 ≤ max`);
  }
}

/** The problems of a results document; empty when it is well-formed and complete. */
export function validateResults(doc: unknown): string[] {
  const problems: string[] = [];
  if (!isObj(doc)) return ['the document is not a JSON object'];
  if (doc.schema !== 'cerulean-bench/1') problems.push('schema is not cerulean-bench/1');
  if (doc.mode !== 'full' && doc.mode !== 'smoke') problems.push('mode is neither full nor smoke');
  for (const k of ['startedAt', 'finishedAt'])
    if (typeof doc[k] !== 'string' || Number.isNaN(Date.parse(doc[k] as string))) problems.push(`${k} is not a date`);
  if (!isObj(doc.machine) || !finite(doc.machine.cpus)) problems.push('machine.cpus is missing');
  const la = doc.loadAverage;
  if (!isObj(la) || !Array.isArray(la.start) || !Array.isArray(la.end) || la.start.length !== 3 || la.end.length !== 3)
    problems.push('loadAverage.start/end are not 3 numbers each');
  const scenarios = Array.isArray(doc.scenarios) ? doc.scenarios : [];
  if (!Array.isArray(doc.scenarios)) problems.push('scenarios is not a list');
  const ids = new Set<string>();
  for (const [i, s] of scenarios.entries()) {
    if (!isObj(s) || typeof s.id !== 'string') {
      problems.push(`scenarios[${i}] has no id`);
      continue;
    }
    ids.add(s.id);
    if (typeof s.scenario !== 'string' || typeof s.measures !== 'string') problems.push(`${s.id}: scenario/measures missing`);
    if (!['ms', 'req/s', 'MiB'].includes(String(s.unit))) problems.push(`${s.id}: unknown unit ${String(s.unit)}`);
    checkValue(s.cerulean, `${s.id}.cerulean`, problems);
    if (s.floor !== undefined) {
      checkValue(s.floor, `${s.id}.floor`, problems);
      if (!finite(s.ratio)) problems.push(`${s.id}: has a floor but no ratio`);
    }
  }
  for (const id of REQUIRED_SCENARIOS) if (!ids.has(id)) problems.push(`scenario ${id} is missing`);
  const targets = Array.isArray(doc.targets) ? doc.targets : [];
  const targetIds = new Set(targets.filter(isObj).map((t) => String(t.id)));
  for (const t of targets)
    if (!isObj(t) || typeof t.pass !== 'boolean' || typeof t.target !== 'string') problems.push(`target ${JSON.stringify(t)} is malformed`);
  for (const id of REQUIRED_TARGETS) if (!targetIds.has(id)) problems.push(`target ${id} is missing`);
  return problems;
}
