/** An agent pool's `upgradeSettings`, as AKS reads them: the rolling-replacement knobs. */
export interface RollingSettings {
  /** Nodes created ahead of each batch (≥ 1). */
  surge: number;
  drainTimeoutMs: number;
  soakMs: number;
  /** What a node that cannot be drained in time does to the roll (AKS's `undrainableNodeBehavior`). */
  undrainable: UndrainableNodeBehavior;
}

/**
 * AKS's `upgradeSettings.undrainableNodeBehavior`. `Schedule` (the default): the blocked node goes back to work and the
 * upgrade stops there, failed. `Cordon`: the blocked node stays cordoned and labelled Quarantined with its pods, its
 * surge node stays as its replacement, and the upgrade goes on with the other nodes; it still ends Failed.
 */
export type UndrainableNodeBehavior = 'Cordon' | 'Schedule';
export const UNDRAINABLE_NODE_BEHAVIORS: readonly UndrainableNodeBehavior[] = ['Cordon', 'Schedule'];

/** The label AKS puts on a node it quarantined (undrainableNodeBehavior Cordon), and its value. */
export const UPGRADE_STATUS_LABEL = 'kubernetes.azure.com/upgrade-status';
export const QUARANTINED = 'Quarantined';

export const DEFAULT_MAX_SURGE = '10%';
const DEFAULT_DRAIN_TIMEOUT_MINUTES = 30;

/** Why `upgradeSettings` is invalid, naming the property; undefined when it is fine. */
export function upgradeSettingsProblem(settings: Record<string, unknown>): { property: string; message: string } | undefined {
  const { maxSurge, drainTimeoutInMinutes, nodeSoakDurationInMinutes, undrainableNodeBehavior } = settings;
  if (maxSurge !== undefined && maxSurge !== null && maxSurge !== '') {
    if (typeof maxSurge !== 'string' || !/^(\d+%?)$/.test(maxSurge.trim())) {
      return { property: 'maxSurge', message: `maxSurge '${String(maxSurge)}' must be an integer (e.g. '5') or a percentage (e.g. '50%').` };
    }
    const n = Number.parseInt(maxSurge, 10);
    if (maxSurge.trim().endsWith('%') ? n < 1 || n > 100 : n < 1) {
      return { property: 'maxSurge', message: `maxSurge '${maxSurge}' must be at least 1 node, or a percentage between 1% and 100%.` };
    }
  }
  const intIn = (v: unknown, min: number, max: number) =>
    v === undefined || v === null || (Number.isInteger(v) && (v as number) >= min && (v as number) <= max);
  if (!intIn(drainTimeoutInMinutes, 1, 1440))
    return { property: 'drainTimeoutInMinutes', message: 'drainTimeoutInMinutes must be an integer between 1 and 1440.' };
  if (!intIn(nodeSoakDurationInMinutes, 0, 30))
    return { property: 'nodeSoakDurationInMinutes', message: 'nodeSoakDurationInMinutes must be an integer between 0 and 30.' };
  if (
    undrainableNodeBehavior !== undefined &&
    undrainableNodeBehavior !== null &&
    !UNDRAINABLE_NODE_BEHAVIORS.includes(undrainableNodeBehavior as UndrainableNodeBehavior)
  ) {
    return {
      property: 'undrainableNodeBehavior',
      message: `undrainableNodeBehavior '${String(undrainableNodeBehavior)}' is not valid. Allowed values: ${UNDRAINABLE_NODE_BEHAVIORS.join(', ')}.`,
    };
  }
  return undefined;
}

/**
 * The surge for a pool of `count` nodes: an absolute number, or a percentage of the pool rounded up
 * (AKS's rule), never less than 1. Default 10 %.
 */
export function rollingSettings(settings: Record<string, unknown>, count: number): RollingSettings {
  const raw = typeof settings.maxSurge === 'string' && settings.maxSurge.trim() !== '' ? settings.maxSurge.trim() : DEFAULT_MAX_SURGE;
  const n = Number.parseInt(raw, 10) || 1;
  const surge = raw.endsWith('%') ? Math.ceil((count * n) / 100) : n;
  const minutes = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
  return {
    surge: Math.max(1, surge),
    drainTimeoutMs: minutes(settings.drainTimeoutInMinutes, DEFAULT_DRAIN_TIMEOUT_MINUTES) * 60_000,
    soakMs: minutes(settings.nodeSoakDurationInMinutes, 0) * 60_000,
    undrainable: settings.undrainableNodeBehavior === 'Cordon' ? 'Cordon' : 'Schedule',
  };
}
