import { checkIndexesFormat, validateJobPolicies, validateJobPoliciesUpdate } from './job-validation';

const fields = (spec: Record<string, unknown>) => validateJobPolicies(spec).map((c) => `${c.field}: ${c.message}`);

describe('Job policy validation', () => {
  it('reads index lists as upstream: below completions, ascending, at most two parts per interval', () => {
    expect(checkIndexesFormat('', 3)).toEqual({ total: 0 });
    expect(checkIndexesFormat('0,2-4,7', 8)).toEqual({ total: 5 });
    expect(checkIndexesFormat('0-8', 8)).toEqual({ error: 'too large index: "8"' });
    expect(checkIndexesFormat('3,1', 8)).toEqual({ error: 'non-increasing order, previous: 3, current: 1' });
    expect(checkIndexesFormat('2-2', 8)).toEqual({ error: 'non-increasing order, previous: 2, current: 2' });
    expect(checkIndexesFormat('1-2-3', 8)).toEqual({
      error: `the fragment "1-2-3" violates the requirement that an index interval can have at most two parts separated by '-'`,
    });
    expect(checkIndexesFormat('a', 8)).toEqual({ error: 'cannot convert string to integer for index: "a"' });
  });

  it('accepts well-formed policies', () => {
    expect(
      fields({
        completionMode: 'Indexed',
        completions: 4,
        backoffLimitPerIndex: 1,
        maxFailedIndexes: 2,
        podReplacementPolicy: 'Failed',
        podFailurePolicy: {
          rules: [
            { action: 'FailIndex', onExitCodes: { containerName: 'main', operator: 'In', values: [1, 2] } },
            { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          ],
        },
        successPolicy: { rules: [{ succeededIndexes: '0-2', succeededCount: 2 }] },
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main' }] } },
      }),
    ).toEqual([]);
  });

  it('ties the per-index fields to Indexed Jobs and the policies to each other', () => {
    expect(fields({ completions: 2, backoffLimitPerIndex: 1, maxFailedIndexes: 1 })).toEqual([
      'spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode',
      'spec.maxFailedIndexes: Invalid value: 1: requires indexed completion mode',
    ]);
    expect(
      fields({
        podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [1] }, onPodConditions: [{ type: 'X' }] }] },
        podReplacementPolicy: 'TerminatingOrFailed',
        template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main' }] } },
      }),
    ).toEqual([
      'spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported',
      'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"',
      'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    ]);
    expect(fields({ completionMode: 'Indexed', completions: 3, successPolicy: { rules: [{}, { succeededIndexes: '0,1', succeededCount: 3 }] } })).toEqual([
      'spec.successPolicy.rules[0]: Required value: at least one of succeededCount or succeededIndexes must be specified',
      'spec.successPolicy.rules[1].succeededCount: Invalid value: 3: must be less than or equal to 2 (the number of indexes in the specified succeededIndexes field)',
    ]);
    expect(fields({ podFailurePolicy: { rules: [{ onExitCodes: { values: [1, 1] } }] }, template: { spec: { containers: [] } } })).toEqual([
      'spec.podFailurePolicy.rules[0].action: Required value: valid values: ["Count" "FailIndex" "FailJob" "Ignore"]',
      'spec.podFailurePolicy.rules[0].onExitCodes.operator: Required value: valid values: ["In" "NotIn"]',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Duplicate value: 1',
    ]);
  });

  it("checks a CronJob's Job template at its own path", () => {
    expect(validateJobPolicies({ successPolicy: { rules: [{ succeededCount: 1 }] } }, 'spec.jobTemplate.spec').map((c) => c.field)).toEqual([
      'spec.jobTemplate.spec.successPolicy',
    ]);
  });

  it('keeps podFailurePolicy, backoffLimitPerIndex and successPolicy immutable, whatever the key order', () => {
    const policy = { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] };
    const reordered = { rules: [{ onPodConditions: [{ status: 'True', type: 'DisruptionTarget' }], action: 'Ignore' }] };
    expect(validateJobPoliciesUpdate({ podFailurePolicy: reordered, suspend: true }, { podFailurePolicy: policy })).toEqual([]);
    expect(validateJobPoliciesUpdate({ backoffLimitPerIndex: 2 }, { backoffLimitPerIndex: 1 }).map((c) => c.message)).toEqual([
      'Invalid value: 2: field is immutable',
    ]);
  });
});
