import { parseActivityFilter } from './activity-filter';

describe('activity log $filter', () => {
  const now = new Date('2026-11-21T12:00:00Z');
  it('reads the time range and the equality filters az monitor activity-log sends', () => {
    expect(
      parseActivityFilter("eventTimestamp ge '2026-11-21T10:00:00Z' and eventTimestamp le '2026-11-21T11:00:00Z' and resourceGroupName eq 'rg1'", now),
    ).toEqual({
      from: new Date('2026-11-21T10:00:00Z'),
      to: new Date('2026-11-21T11:00:00Z'),
      resourceGroupName: 'rg1',
    });
    expect(
      parseActivityFilter("eventTimestamp ge '2026-11-21T10:00:00Z' and resourceUri eq '/subscriptions/s/resourceGroups/rg/providers/X/y/z'", now),
    ).toMatchObject({
      to: now,
      resourceUri: '/subscriptions/s/resourceGroups/rg/providers/X/y/z',
    });
    expect(parseActivityFilter("EventTimestamp GE '2026-11-21T10:00:00Z' AND correlationId eq 'c-1'", now)).toMatchObject({ correlationId: 'c-1' });
  });

  it('refuses filters Azure refuses, as 400', () => {
    for (const bad of [
      undefined,
      '',
      "resourceGroupName eq 'rg'",
      "eventTimestamp ge 'yesterday'",
      "eventTimestamp ge '2026-11-21T10:00:00Z' and colour eq 'red'",
      "eventTimestamp ge '2026-11-21T10:00:00Z' and eventTimestamp le '2026-11-20T10:00:00Z'",
      "eventTimestamp ge '2026-01-01T00:00:00Z'",
      "eventTimestamp ge '2026-11-21T10:00:00Z' or resourceGroupName eq 'x'",
    ]) {
      expect(() => parseActivityFilter(bad, now)).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});
