import {
  failureBackoffMs,
  formatIndexes,
  isPodFailed,
  jobPod,
  missingIndexes,
  parseIndexes,
  setJobCondition,
  succeededCriteria,
  wantedActive,
  type Job,
} from './job.logic';
import type { ApiPod } from './pods';

const job = (spec: Partial<Job['spec']>): Job => ({
  metadata: { name: 'pi', namespace: 'default', uid: 'u1' },
  spec: { template: { metadata: { labels: { 'job-name': 'pi' } }, spec: { containers: [{ name: 'c' }] } }, ...spec },
});
const pod = (phase?: string, extra: Partial<ApiPod['metadata']> = {}): ApiPod =>
  ({ metadata: { name: 'p', namespace: 'default', ...extra }, spec: { containers: [] }, status: { phase } }) as ApiPod;

describe('job rules', () => {
  it('formats and parses completed indexes as ranges', () => {
    // Two in a row are listed, not ranged, as upstream writes them.
    expect(formatIndexes([5, 0, 1, 2, 7, 8])).toBe('0-2,5,7,8');
    expect(formatIndexes([])).toBe('');
    expect([...parseIndexes('0-2,5,7-8', 8)]).toEqual([0, 1, 2, 5, 7]);
  });

  it('runs parallelism pods bounded by what is left to complete; none when suspended', () => {
    expect(wantedActive(job({ parallelism: 3, completions: 5 }), 0, 0)).toBe(3);
    expect(wantedActive(job({ parallelism: 3, completions: 5 }), 4, 2)).toBe(1);
    expect(wantedActive(job({ parallelism: 3, completions: 5, suspend: true }), 0, 3)).toBe(0);
    // A work queue (no completions) starts no pod once one succeeded.
    expect(wantedActive(job({ parallelism: 2, completions: null }), 1, 1)).toBe(1);
  });

  it('meets success criteria per mode', () => {
    expect(succeededCriteria(job({ completions: 2 }), 2, 0, new Set())).toBe(true);
    expect(succeededCriteria(job({ completions: 2, completionMode: 'Indexed' }), 5, 0, new Set([0]))).toBe(false);
    expect(succeededCriteria(job({ completions: 2, completionMode: 'Indexed' }), 2, 0, new Set([0, 1]))).toBe(true);
    expect(succeededCriteria(job({ completions: null }), 1, 1, new Set())).toBe(false);
    expect(succeededCriteria(job({ completions: 2 }), 2, 1, new Set())).toBe(false);
  });

  it('counts a deleted unfinished pod as failed unless only failed pods are replaced', () => {
    const deleted = pod('Running', { deletionTimestamp: '2026-12-02T10:00:00Z' });
    expect(isPodFailed(deleted, job({}))).toBe(true);
    expect(isPodFailed(deleted, job({ podReplacementPolicy: 'Failed' }))).toBe(false);
    expect(isPodFailed(pod('Failed'), job({ podReplacementPolicy: 'Failed' }))).toBe(true);
    expect(isPodFailed(pod('Succeeded', { deletionTimestamp: 'x' }), job({}))).toBe(false);
  });

  it('backs off 10 s doubling per failure up to 6 minutes', () => {
    expect([0, 1, 2, 3, 10].map((n) => failureBackoffMs(n))).toEqual([0, 10_000, 20_000, 40_000, 360_000]);
  });

  it('fills the lowest missing indexes', () => {
    const active = [pod('Running', { annotations: { 'batch.kubernetes.io/job-completion-index': '1' } })];
    expect(missingIndexes(5, new Set([0]), active, 2)).toEqual([2, 3]);
  });

  it('makes indexed pods with finalizer, index and hostname', () => {
    const p = jobPod(job({ completionMode: 'Indexed' }), 2) as {
      metadata: Record<string, unknown>;
      spec: { hostname: string; containers: { env: { name: string }[] }[] };
    };
    expect(p.metadata).toMatchObject({
      generateName: 'pi-2-',
      finalizers: ['batch.kubernetes.io/job-tracking'],
      labels: { 'batch.kubernetes.io/job-completion-index': '2' },
      annotations: { 'batch.kubernetes.io/job-completion-index': '2' },
    });
    expect(p.spec.hostname).toBe('pi-2');
    expect(p.spec.containers[0].env[0].name).toBe('JOB_COMPLETION_INDEX');
  });

  it('replaces a changed condition whole, keeps an unchanged one, and adds no False condition from nothing', () => {
    expect(setJobCondition([], { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, 't0')).toEqual([]);
    const one = setJobCondition([], { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, 't1');
    const two = setJobCondition(one, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, 't2');
    expect(two).toEqual([{ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed', lastProbeTime: 't2', lastTransitionTime: 't2' }]);
    expect(setJobCondition(two, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, 't3')).toEqual(two);
  });
});
