import {
  formatAge,
  formatDateTime,
  formatDuration,
  isUnder,
  kindLabel,
  nextPollDelayMs,
  operationDuration,
  operationQuery,
  parseArmId,
  readySummary,
  stateTone,
} from './format';

describe('stateTone', () => {
  it.each([
    ['Succeeded', 'ok'],
    ['Running', 'ok'],
    ['Ready', 'ok'],
    ['Failed', 'bad'],
    ['NotReady', 'bad'],
    ['Canceled', 'muted'],
    ['Stopped', 'muted'],
    ['Creating', 'busy'],
    ['Scaling', 'busy'],
    ['InProgress', 'busy'],
    ['UpgradingNodeImageVersion', 'busy'],
    [undefined, 'muted'],
  ])('%s is %s', (state, tone) => {
    expect(stateTone(state)).toBe(tone);
  });
});

describe('kindLabel', () => {
  it('names known kinds and passes unknown ones through', () => {
    expect(kindLabel('cluster.stop')).toBe('Stop cluster');
    expect(kindLabel('something.new')).toBe('something.new');
  });
});

describe('formatDateTime', () => {
  it('shows the time in the given zone with its name', () => {
    const sut = formatDateTime('2026-11-21T10:00:05Z', 'en-GB', 'Asia/Tokyo');

    expect(sut).toContain('19:00:05');
    expect(sut).toMatch(/GMT\+9|JST/);
  });

  it('shows the same instant differently in another zone', () => {
    expect(formatDateTime('2026-11-21T10:00:05Z', 'en-GB', 'America/New_York')).toContain('05:00:05');
  });

  it('shows a dash for nothing or garbage', () => {
    expect(formatDateTime(undefined)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [12_400, '12 s'],
    [185_000, '3 min 05 s'],
    [2 * 3600_000 + 4 * 60_000, '2 h 04 min'],
    [74 * 3600_000, '3 d 2 h'],
    [-1, '—'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('measures a running operation up to now and an ended one to its end', () => {
    const now = new Date('2026-11-21T10:01:00Z').getTime();

    expect(operationDuration({ startTime: '2026-11-21T10:00:00Z' }, now)).toBe('1 min 00 s');
    expect(operationDuration({ startTime: '2026-11-21T10:00:00Z', endTime: '2026-11-21T10:00:07Z' }, now)).toBe('7 s');
    expect(formatAge('2026-11-21T10:00:30Z', now)).toBe('30 s');
  });
});

describe('parseArmId and isUnder', () => {
  const pool = '/subscriptions/s1/resourceGroups/Rg1/providers/Microsoft.ContainerService/managedClusters/C1/agentPools/np1';

  it('reads the parts of a pool id', () => {
    expect(parseArmId(pool)).toEqual({ subscriptionId: 's1', resourceGroup: 'Rg1', cluster: 'C1', pool: 'np1' });
  });

  it('is undefined for something that is not an ARM id', () => {
    expect(parseArmId('/providers/x')).toBeUndefined();
  });

  it('puts a pool under its cluster in any casing, but not a cluster with a longer name', () => {
    const cluster = '/subscriptions/s1/resourcegroups/rg1/providers/microsoft.containerservice/managedclusters/c1';

    expect(isUnder(pool, cluster)).toBe(true);
    expect(isUnder(`${cluster}x`, cluster)).toBe(false);
  });
});

describe('operationQuery', () => {
  it('keeps only the filters that are set and turns local times into instants', () => {
    const sut = operationQuery({ status: 'Failed', kind: '', resourceId: '/subscriptions/s1', startedAfter: '2026-11-21T10:00' });

    expect(sut).toEqual({ status: 'Failed', resourceId: '/subscriptions/s1', startedAfter: new Date('2026-11-21T10:00').toISOString() });
  });
});

describe('readySummary', () => {
  it('counts Ready nodes of all', () => {
    expect(readySummary([{ ready: 'True' }, { ready: 'Unknown' }, { ready: 'True' }])).toEqual({ ready: 2, total: 3 });
  });
});

describe('nextPollDelayMs', () => {
  it('waits what Retry-After asks, else the default, and slows down in a hidden tab', () => {
    expect(nextPollDelayMs(5, 2000)).toBe(5000);
    expect(nextPollDelayMs(undefined, 2000)).toBe(2000);
    expect(nextPollDelayMs(0, 2000)).toBe(500);
    expect(nextPollDelayMs(undefined, 2000, true)).toBe(30_000);
  });
});
