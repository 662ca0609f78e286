import {
  failedIndexesOf,
  failJobMessage,
  isIndexFailed,
  matchPodFailurePolicy,
  matchSuccessPolicy,
  missingIndexes,
  podsAwaitingReplacement,
  replacementFailureCounts,
  type Job,
  type PodFailurePolicy,
} from './job.logic';
import type { ApiPod } from './pods';

const job = (spec: Partial<Job['spec']>, status: Job['status'] = {}): Job => ({
  metadata: { name: 'pi', namespace: 'default', uid: 'u1' },
  spec: { template: { spec: { containers: [{ name: 'main' }] } }, ...spec },
  status,
});

interface PodShape {
  name?: string;
  phase?: string;
  index?: number;
  failures?: number;
  ignored?: number;
  exit?: Record<string, number | undefined>;
  initExit?: Record<string, number>;
  conditions?: { type: string; status: string }[];
  deleted?: boolean;
}
const pod = (p: PodShape): ApiPod => {
  const annotations: Record<string, string> = {};
  if (p.index !== undefined) annotations['batch.kubernetes.io/job-completion-index'] = String(p.index);
  if (p.failures !== undefined) annotations['batch.kubernetes.io/job-index-failure-count'] = String(p.failures);
  if (p.ignored !== undefined) annotations['batch.kubernetes.io/job-index-ignored-failure-count'] = String(p.ignored);
  const statuses = (m: Record<string, number | undefined> = {}) =>
    Object.entries(m).map(([name, exitCode]) => ({ name, state: exitCode === undefined ? { running: {} } : { terminated: { exitCode } } }));
  return {
    metadata: { name: p.name ?? 'p', namespace: 'default', uid: p.name ?? 'p', annotations, ...(p.deleted ? { deletionTimestamp: 't' } : {}) },
    spec: { containers: [] },
    status: { phase: p.phase ?? 'Failed', conditions: p.conditions, containerStatuses: statuses(p.exit), initContainerStatuses: statuses(p.initExit) },
  } as unknown as ApiPod;
};

const policy: PodFailurePolicy = {
  rules: [
    { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
    { action: 'FailIndex', onExitCodes: { operator: 'In', values: [7] } },
    { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1, 2] } },
  ],
};

describe('podFailurePolicy', () => {
  it('takes the first matching rule, in order, and words FailJob as upstream', () => {
    expect(matchPodFailurePolicy(policy, pod({ name: 'a', exit: { main: 42 } }))).toEqual({
      action: 'FailJob',
      counts: true,
      message: 'Container main for pod default/a failed with exit code 42 matching FailJob rule at index 0',
    });
    // Both the FailJob exit code and the disruption: the earlier rule wins.
    expect(matchPodFailurePolicy(policy, pod({ exit: { main: 42 }, conditions: [{ type: 'DisruptionTarget', status: 'True' }] })).action).toBe('FailJob');
    expect(matchPodFailurePolicy(policy, pod({ exit: { main: 1 }, conditions: [{ type: 'DisruptionTarget', status: 'True' }] }))).toEqual({
      action: 'Ignore',
      counts: false,
    });
    expect(matchPodFailurePolicy(policy, pod({ exit: { main: 7 } }))).toEqual({ action: 'FailIndex', counts: true });
    expect(matchPodFailurePolicy(policy, pod({ exit: { main: 9 } }))).toEqual({ action: 'Count', counts: true });
    // Exit code 1 matches no rule (NotIn [1,2] excludes it): an ordinary counted failure.
    expect(matchPodFailurePolicy(policy, pod({ exit: { main: 1 } }))).toEqual({ counts: true });
    expect(matchPodFailurePolicy(undefined, pod({ exit: { main: 42 } }))).toEqual({ counts: true });
  });

  it('matches exit codes only of terminated containers with a non-zero code, of the named container, init containers too', () => {
    const notIn: PodFailurePolicy = { rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [5] } }] };
    // NotIn never matches exit code 0 nor a container still running.
    expect(matchPodFailurePolicy(notIn, pod({ exit: { main: 0, side: undefined } })).action).toBeUndefined();
    expect(matchPodFailurePolicy(notIn, pod({ exit: { main: 0, side: 3 } })).message).toContain('Container side ');
    // The rule names main: an exit 42 of another container does not match it.
    expect(matchPodFailurePolicy(policy, pod({ exit: { side: 42 } })).action).toBe('Count');
    expect(matchPodFailurePolicy(notIn, pod({ initExit: { setup: 9 } })).message).toBe(
      'Container setup for pod default/p failed with exit code 9 matching FailJob rule at index 0',
    );
  });

  it('matches pod conditions by type and status (True when not given), with upstream message', () => {
    const p: PodFailurePolicy = { rules: [{ action: 'FailJob', onPodConditions: [{ type: 'DisruptionTarget' }, { type: 'Custom', status: 'False' }] }] };
    expect(matchPodFailurePolicy(p, pod({ conditions: [{ type: 'DisruptionTarget', status: 'False' }] })).action).toBeUndefined();
    expect(matchPodFailurePolicy(p, pod({ name: 'b', conditions: [{ type: 'Custom', status: 'False' }] })).message).toBe(
      'Pod default/b has condition Custom matching FailJob rule at index 0',
    );
  });

  it('fails the Job only for a failed pod a FailJob rule matches', () => {
    const j = job({ podFailurePolicy: policy });
    expect(failJobMessage(j, [pod({ phase: 'Running', exit: { main: 42 } })])).toBeUndefined();
    expect(failJobMessage(j, [pod({ exit: { main: 3 } }), pod({ name: 'x', exit: { main: 42 } })])).toContain('pod default/x failed with exit code 42');
    expect(failJobMessage(job({}), [pod({ exit: { main: 42 } })])).toBeUndefined();
  });
});

describe('backoffLimitPerIndex', () => {
  const perIndex = (extra: Partial<Job['spec']> = {}, status: Job['status'] = {}) =>
    job({ completionMode: 'Indexed', completions: 4, backoffLimitPerIndex: 1, ...extra }, status);

  it('fails an index once a counted failure comes after backoffLimitPerIndex earlier ones, or at once on FailIndex', () => {
    expect(isIndexFailed(perIndex(), pod({ index: 0, failures: 0 }))).toBe(false);
    expect(isIndexFailed(perIndex(), pod({ index: 0, failures: 1 }))).toBe(true);
    expect(isIndexFailed(perIndex(), pod({ phase: 'Running', index: 0, failures: 1 }))).toBe(false);
    const withPolicy = perIndex({ podFailurePolicy: policy });
    expect(isIndexFailed(withPolicy, pod({ index: 0, failures: 0, exit: { main: 7 } }))).toBe(true);
    // Ignored failures never fail the index.
    expect(isIndexFailed(withPolicy, pod({ index: 0, failures: 5, conditions: [{ type: 'DisruptionTarget', status: 'True' }] }))).toBe(false);
    // A garbled count reads as 0, as upstream.
    expect(isIndexFailed(perIndex(), pod({ index: 0, failures: -1 }))).toBe(false);
  });

  it('collects failed indexes from status and from pods not counted yet', () => {
    const j = perIndex({}, { failedIndexes: '3' });
    expect([...failedIndexesOf(j, [pod({ index: 1, failures: 1 }), pod({ index: 2, failures: 0 }), pod({ index: 9, failures: 4 })])].sort()).toEqual([1, 3]);
  });

  it('carries failure counts to the replacement: counted ones, and ignored ones apart', () => {
    const j = perIndex({ podFailurePolicy: policy });
    expect(replacementFailureCounts(j, undefined)).toEqual({ 'batch.kubernetes.io/job-index-failure-count': '0' });
    expect(replacementFailureCounts(j, pod({ index: 0, failures: 1, ignored: 2, exit: { main: 3 } }))).toEqual({
      'batch.kubernetes.io/job-index-failure-count': '2',
      'batch.kubernetes.io/job-index-ignored-failure-count': '2',
    });
    expect(replacementFailureCounts(j, pod({ index: 0, failures: 0, conditions: [{ type: 'DisruptionTarget', status: 'True' }] }))).toEqual({
      'batch.kubernetes.io/job-index-failure-count': '0',
      'batch.kubernetes.io/job-index-ignored-failure-count': '1',
    });
  });

  it('keeps, per index still to run, the failed pod with most failures until it is replaced', () => {
    const j = perIndex();
    const older = pod({ name: 'old', index: 0, failures: 0 });
    const newer = pod({ name: 'new', index: 0, failures: 1 });
    const done = pod({ name: 'done', index: 1, failures: 0 });
    const running = pod({ name: 'run', phase: 'Running', index: 2 });
    const replacedAlready = pod({ name: 'r', index: 2, failures: 0 });
    const failedIdx = pod({ name: 'f', index: 3, failures: 0 });
    const got = podsAwaitingReplacement(j, [older, newer, done, running, replacedAlready, failedIdx], new Set([1]), new Set([3]), [running]);
    expect([...got.entries()].map(([i, p]) => [i, p.metadata.name])).toEqual([[0, 'new']]);
  });

  it('creates no pod for a failed index', () => {
    expect(missingIndexes(4, new Set([0]), [], 4, new Set([2]))).toEqual([1, 3]);
  });
});

describe('successPolicy', () => {
  const withRules = (rules: NonNullable<Job['spec']['successPolicy']>['rules']) => job({ completionMode: 'Indexed', completions: 5, successPolicy: { rules } });

  it('is met when all succeededIndexes of a rule succeeded, or succeededCount of them', () => {
    const j = withRules([{ succeededIndexes: '0,2-3' }]);
    expect(matchSuccessPolicy(j, new Set([0, 2]))).toBeUndefined();
    expect(matchSuccessPolicy(j, new Set([0, 2, 3]))).toBe('Matched rules at index 0');
    const some = withRules([{ succeededIndexes: '1-4', succeededCount: 2 }]);
    expect(matchSuccessPolicy(some, new Set([0, 1]))).toBeUndefined();
    expect(matchSuccessPolicy(some, new Set([0, 1, 4]))).toBe('Matched rules at index 0');
  });

  it('counts any indexes for a succeededCount-only rule and names the first rule met', () => {
    const j = withRules([{ succeededIndexes: '4' }, { succeededCount: 2 }]);
    expect(matchSuccessPolicy(j, new Set([0]))).toBeUndefined();
    expect(matchSuccessPolicy(j, new Set([0, 1]))).toBe('Matched rules at index 1');
    expect(matchSuccessPolicy(j, new Set([0, 4]))).toBe('Matched rules at index 0');
    expect(matchSuccessPolicy(job({ completionMode: 'Indexed', completions: 5 }), new Set([0, 1, 2, 3, 4]))).toBeUndefined();
  });
});
