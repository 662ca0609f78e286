// Pure helpers (no DOM): unit-tested in format.spec.ts.

export type Tone = 'ok' | 'busy' | 'bad' | 'muted';

/** Provisioning state and operation status to a colour family: green settled, blue moving, red failed, grey the rest. */
export function stateTone(state: string | undefined): Tone {
  switch ((state ?? '').toLowerCase()) {
    case 'succeeded':
    case 'running':
    case 'ready':
      return 'ok';
    case 'failed':
    case 'notready':
      return 'bad';
    case 'canceled':
    case 'stopped':
    case '':
      return 'muted';
    default:
      return 'busy';
  }
}

const KIND_LABELS: Record<string, string> = {
  'cluster.put': 'Create or update cluster',
  'cluster.delete': 'Delete cluster',
  'agent-pool.put': 'Create or update pool',
  'agent-pool.delete': 'Delete pool',
  'resource-group.delete': 'Delete resource group',
  'cluster.start': 'Start cluster',
  'cluster.stop': 'Stop cluster',
  'cluster.abort': 'Abort operation',
  'agent-pool.upgrade-node-image': 'Upgrade node image',
  'agent-pool.delete-machines': 'Delete machines',
  'cluster.rotate-certificates': 'Rotate certificates',
  'cluster.run-command': 'Run command',
};
export const OPERATION_KINDS = Object.keys(KIND_LABELS);
export const kindLabel = (kind: string): string => KIND_LABELS[kind] ?? kind;

/** A date-time in the viewer's own zone (or the one given), with the zone's short name so nobody guesses. */
export function formatDateTime(iso: string | undefined, locale?: string, timeZone?: string): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    timeZoneName: 'short',
    timeZone,
  }).format(d);
}

/** 850 ms, 12 s, 3 min 05 s, 2 h 04 min, 3 d 2 h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** How long ago, for ages and heartbeats. */
export const formatAge = (iso: string | undefined, now: number): string => (iso ? formatDuration(Math.max(0, now - new Date(iso).getTime())) : '—');

/** An operation's duration: end − start, or start → now while it runs. */
export const operationDuration = (op: { startTime: string; endTime?: string }, now: number): string =>
  formatDuration((op.endTime ? new Date(op.endTime).getTime() : now) - new Date(op.startTime).getTime());

export interface ArmIdParts {
  subscriptionId: string;
  resourceGroup?: string;
  cluster?: string;
  pool?: string;
}

/** The parts of a subscription, group, cluster or pool id (segment names matched in any casing). */
export function parseArmId(id: string): ArmIdParts | undefined {
  const s = id.split('/').filter(Boolean);
  const at = (name: string): string | undefined => {
    const i = s.findIndex((x) => x.toLowerCase() === name.toLowerCase());
    return i >= 0 ? s[i + 1] : undefined;
  };
  const subscriptionId = at('subscriptions');
  if (!subscriptionId) return undefined;
  return { subscriptionId, resourceGroup: at('resourceGroups'), cluster: at('managedClusters'), pool: at('agentPools') };
}

/** True when `resourceId` is `parentId` or lies under it (ARM ids compare case-insensitively). */
export function isUnder(resourceId: string, parentId: string): boolean {
  const r = resourceId.toLowerCase();
  const p = parentId.toLowerCase().replace(/\/+$/, '');
  return r === p || r.startsWith(`${p}/`);
}

export interface OperationFilters {
  status?: string;
  kind?: string;
  /** A cluster id (or any ARM id): its operations and its pools'. */
  resourceId?: string;
  /** Value of a datetime-local input (the viewer's zone) or ''. */
  startedAfter?: string;
  startedBefore?: string;
}

/** The operations list's query parameters for the page's filters; local times become ISO instants. */
export function operationQuery(f: OperationFilters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.status) q.status = f.status;
  if (f.kind) q.kind = f.kind;
  if (f.resourceId) q.resourceId = f.resourceId;
  for (const key of ['startedAfter', 'startedBefore'] as const) {
    const v = f[key];
    if (v) {
      const d = new Date(v);
      if (!Number.isNaN(d.getTime())) q[key] = d.toISOString();
    }
  }
  return q;
}

/** `3/4` Ready of all nodes. */
export function readySummary(nodes: { ready: string }[]): { ready: number; total: number } {
  return { ready: nodes.filter((n) => n.ready === 'True').length, total: nodes.length };
}

/** What the next poll waits: the server's Retry-After when it gave one (never less), else the page's own pace. */
export function nextPollDelayMs(retryAfterSeconds: number | undefined, defaultMs: number, hidden = false): number {
  const base = retryAfterSeconds !== undefined ? Math.max(retryAfterSeconds * 1000, 500) : defaultMs;
  return hidden ? Math.max(base, 30_000) : base;
}
