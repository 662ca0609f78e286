import { REQUIRED_SCENARIOS, REQUIRED_TARGETS, validateResults } from './validate-results';

const complete = () => ({
  schema: 'cerulean-bench/1',
  mode: 'smoke',
  startedAt: '2026-11-21T23:00:00.000Z',
  finishedAt: '2026-11-21T23:02:00.000Z',
  machine: { cpus: 2 },
  loadAverage: { start: [1, 1, 1], end: [2, 2, 2] },
  scenarios: REQUIRED_SCENARIOS.map((id) => ({
    id,
    scenario: id,
    measures: 'x',
    unit: 'ms',
    cerulean: { n: 3, median: 2, p95: 3, min: 1, max: 3 },
    floor: { value: 1 },
    ratio: 2,
  })),
  targets: REQUIRED_TARGETS.map((id) => ({ id, target: id, actual: '1', pass: true })),
});

describe('bench results validation', () => {
  it('accepts a complete document', () => {
    expect(validateResults(complete())).toEqual([]);
  });

  it('names what is missing or inconsistent', () => {
    const doc = complete();
    doc.scenarios = doc.scenarios.filter((s) => s.id !== 'queue-dispatch');
    doc.scenarios[0].cerulean = { n: 3, median: 5, p95: 3, min: 1, max: 3 };
    delete (doc.scenarios[1] as { ratio?: number }).ratio;
    expect(validateResults(doc)).toEqual([
      'provision-1.cerulean: not min ≤ median ≤ p95 ≤ max',
      'provision-3: has a floor but no ratio',
      'scenario queue-dispatch is missing',
    ]);
    expect(validateResults([])).toEqual(['the document is not a JSON object']);
  });
});
