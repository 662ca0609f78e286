import { ArmError } from '@cerulean/arm';
import { catchArmError } from '../../../test-support/catch-arm-error';
import { RG_ID, evaluate, evaluationError, testContext } from '../test/helpers';
import { EvaluationBudget, TemplateLimits, exceedsDepth, sizeOf } from './limits';
import { InMemoryTemplateHost } from './template/in-memory-host';
import { TemplatePlan, evaluateOutputs, processTemplate, resolveResource } from './template/processor';
import { whatIf } from './whatif/diff';
import { maskSecureValues, secureStrings } from './whatif/secure-mask';
import { Json, JsonObject } from './values';

const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const template = (parts: JsonObject = {}): JsonObject => ({ $schema: SCHEMA, contentVersion: '1.0.0.0', resources: [], ...parts });
const resource = (name: string, extra: JsonObject = {}): JsonObject => ({
  type: 'Microsoft.Storage/storageAccounts',
  apiVersion: '2023-01-01',
  name,
  ...extra,
});
const plan = (t: JsonObject, parameters?: Json): TemplatePlan => processTemplate(t, parameters, testContext());
const manyOf = (n: number, make: (i: number) => Json): JsonObject => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, make(i)]));

/** Runs `run` and returns its ArmError and how long it took (it must fail). */
function timedError(run: () => unknown): { err: ArmError; ms: number } {
  const start = performance.now();
  const err = catchArmError(run);
  return { err, ms: performance.now() - start };
}

async function armErrorAsync(run: () => Promise<unknown>): Promise<ArmError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ArmError) return err;
    throw err;
  }
  throw new Error('expected an ArmError');
}

describe('ARM template limits', () => {
  it.each([
    ['parameters', template({ parameters: manyOf(257, () => ({ type: 'string', defaultValue: 'x' })) }), 'parameters', 256, 257],
    ['variables', template({ variables: manyOf(257, (i) => i) }), 'variables', 256, 257],
    [
      'variables incl. copy entries',
      template({ variables: { ...manyOf(250, (i) => i), copy: Array.from({ length: 7 }, (_, i) => ({ name: `c${i}`, count: 1, input: 1 })) } }),
      'variables',
      256,
      257,
    ],
    ['outputs', template({ outputs: manyOf(65, () => ({ type: 'int', value: 1 })) }), 'outputs', 64, 65],
  ])('refuses more than the allowed number of %s with InvalidTemplate', (_label, t, what, limit, actual) => {
    const err = catchArmError(() => plan(t));
    expect(err.status).toBe(400);
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toBe(
      `Deployment template validation failed: 'The number of template ${what} limit exceeded. Limit: '${limit}' and actual: '${actual}'. Please see https://aka.ms/arm-template/#${what} for usage details.'.`,
    );
  });

  it('accepts exactly the allowed counts', () => {
    const t = template({
      parameters: manyOf(256, () => ({ type: 'int', defaultValue: 1 })),
      variables: manyOf(256, (i) => i),
      outputs: manyOf(64, () => ({ type: 'int', value: 1 })),
      resources: [resource("[concat('s', copyIndex())]", { copy: { name: 'l', count: 800 } })],
    });
    expect(plan(t).resources).toHaveLength(800);
  });

  it('counts resources including copy expansion and nested copies, and reports the actual number without evaluating them', () => {
    const t = template({
      resources: [
        resource("[concat('p', copyIndex())]", {
          copy: { name: 'outer', count: 300 },
          // Each instance's body would be expensive if the 2,700 instances past the limit were evaluated.
          properties: { big: '[length(string(range(0, 10000)))]' },
          resources: [{ type: 'children', apiVersion: '2023-01-01', name: "[concat('c', copyIndex('inner'))]", copy: { name: 'inner', count: 9 } }],
        }),
      ],
    });
    const { err, ms } = timedError(() => plan(t));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain("The number of template resources limit exceeded. Limit: '800' and actual: '3000'.");
    expect(ms).toBeLessThan(5_000);
  });

  it.each([801, -1, 'ten'])('refuses the copy count %j with ARM copy-count message', (count) => {
    const err = catchArmError(() => plan(template({ resources: [resource('x', { copy: { name: 'l', count } })] })));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain(
      "The template 'copy' definition 'l' has an invalid copy count. The copy count must be a positive integer value and cannot exceed '800'.",
    );
  });

  it('refuses an expression longer than 24,576 characters', () => {
    const long = `[concat('${'a'.repeat(TemplateLimits.expressionLength)}')]`;
    const err = catchArmError(() => plan(template({ variables: { v: long } })));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain(`The template language expression length limit exceeded. Limit: '24576' and actual: '${long.length - 2}'.`);
    expect(plan(template({ variables: { v: `[concat('${'a'.repeat(TemplateLimits.expressionLength - 10)}')]` } })).variables['v']).toHaveLength(24_566);
  });

  it('refuses a resource that is larger than 1 MB after expansion', () => {
    const t = template({ resources: [resource('x', { properties: { copy: [{ name: 'p', count: 10, input: "[padLeft('a', 131072, 'b')]" }] } })] });
    expect(catchArmError(() => plan(t)).message).toContain("The template resource 'x' exceeds the size limit of 1 MB after expansion.");
  });

  it('refuses a template larger than 4 MB after expansion', () => {
    const r = (i: number) => resource(`s${i}`, { properties: { copy: [{ name: 'p', count: 7, input: "[padLeft('a', 131072, 'b')]" }] } });
    const err = catchArmError(() => plan(template({ resources: Array.from({ length: 5 }, (_, i) => r(i)) })));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain('The template exceeds the size limit of 4 MB after expansion');
  });

  it('refuses JSON nested deeper than the limit instead of overflowing the stack', () => {
    let deep: Json = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const err = catchArmError(() => plan(template({ variables: { v: deep } })));
    expect(err.code).toBe('InvalidRequestContent');
  });
});

describe('value bounds (each fails fast instead of allocating or looping)', () => {
  const fast = (expression: string, expected: RegExp | string) => {
    const start = performance.now();
    expect(evaluationError(expression)).toMatch(expected);
    expect(performance.now() - start).toBeLessThan(1_000);
  };
  const TOO_LONG = 'The result of the template language expression exceeds the maximum length limit of 131072 characters.';

  it.each([
    ["[padLeft('a', 500000000)]", TOO_LONG],
    ["[padLeft('a', 131073, 'x')]", TOO_LONG],
    ["[format('{0,500000000}', 1)]", TOO_LONG],
    ["[replace(padLeft('a', 131072, 'b'), 'b', 'bb')]", TOO_LONG],
    ["[concat(padLeft('a', 100000, 'b'), padLeft('a', 100000, 'b'))]", TOO_LONG],
    ["[base64(padLeft('a', 100000, 'b'))]", TOO_LONG],
    ["[dataUri(padLeft('a', 100000, 'b'))]", TOO_LONG],
    ['[string(concat(range(0, 10000), range(10000, 10000), range(20000, 10000)))]', /exceeds the maximum (length|size) limit/],
    ["[join(createArray(padLeft('a', 70000, 'b'), padLeft('a', 70000, 'b')), ',')]", TOO_LONG],
    ['[range(0, 10001)]', "the count '10001' must be between 0 and 10000"],
  ])('%s', (expression, expected) => fast(expression, expected));

  it('bounds arrays built by concat() and union()', () => {
    const ten = 'range(0, 10000)';
    fast(`[length(concat(${Array(11).fill(ten).join(', ')}))]`, /exceeds the maximum size limit/);
    fast(`[length(union(${Array(11).fill(ten).join(', ')}))]`, /exceeds the maximum size limit/);
  });

  it('keeps union() and intersection() linear: 10,000 distinct elements each take well under a second', () => {
    const start = performance.now();
    expect(evaluate('[length(union(range(0, 10000), range(5000, 10000)))]')).toBe(15_000);
    expect(evaluate('[length(intersection(range(0, 10000), range(5000, 10000)))]')).toBe(5_000);
    expect(evaluate('[union(createArray(json(\'{"a":1,"b":2}\')), createArray(json(\'{"b":2,"a":1}\')), createArray(1, \'1\'))]')).toEqual([
      { a: 1, b: 2 },
      1,
      '1',
    ]);
    expect(performance.now() - start).toBeLessThan(1_000);
  });

  it('measures values by what they serialize to, so sharing cannot hide a huge value', () => {
    // 2^30 references to one string: tiny in memory, caught by its size long before anything serializes it.
    let shared: Json = 'x'.repeat(1000);
    for (let i = 0; i < 30; i++) shared = [shared, shared];
    expect(() => sizeOf(shared)).toThrow(/maximum size limit/);
  });

  it('refuses json() of deeply nested text', () => {
    fast(`[json('${'['.repeat(5000)}${']'.repeat(5000)}')]`, /nested deeper than the limit/);
    expect(exceedsDepth([[[1]]], 3)).toBe(false);
    expect(exceedsDepth([[[[1]]]], 3)).toBe(true);
  });

  it('stops an evaluation when its work budget is spent', () => {
    const budget = new EvaluationBudget(100_000);
    expect(evaluationError('[length(string(range(0, 5000)))]', { budget: new EvaluationBudget(10) })).toMatch(/exceed the maximum amount of work/);
    expect(evaluate('[length(range(0, 10))]', { budget })).toBe(10);
    expect(budget.spent).toBeGreaterThan(10);
  });

  it('stops a whole template whose nested copies multiply beyond the work budget, quickly', () => {
    const t = template({
      variables: {
        copy: [{ name: 'v', count: 800, input: { copy: [{ name: 'w', count: 800, input: '[string(range(0, 500))]' }] } }],
      },
    });
    const { err, ms } = timedError(() => plan(t));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toMatch(/exceed the maximum amount of work|exceeds the maximum size limit/);
    expect(ms).toBeLessThan(15_000);
  });

  it('stops at the deadline when one is given', () => {
    const t = template({ variables: { copy: [{ name: 'v', count: 800, input: { copy: [{ name: 'w', count: 800, input: '[range(0, 30)]' }] } }] } });
    const start = performance.now();
    const err = catchArmError(() => processTemplate(t, undefined, testContext(), { deadline: { at: Date.now() + 200, seconds: 0.2 } }));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain("did not finish within the allowed time of '0.2' seconds");
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});

describe('secure values are never disclosed', () => {
  const SECRET = 'Hunter2-Sup3rS3cret';

  it('does not quote a secure value that is not among the allowed values', () => {
    const t = template({ parameters: { pwd: { type: 'securestring', allowedValues: ['a', 'b'] }, obj: { type: 'secureObject', allowedValues: [{ a: 1 }] } } });
    const err = catchArmError(() => plan(t, { pwd: { value: SECRET }, obj: { value: { a: 1 } } }));
    expect(err.message).toContain(
      "The provided value for the template parameter 'pwd' is not valid. The parameter value is not part of the allowed value(s): 'a,b'.",
    );
    expect(JSON.stringify(err.toBody())).not.toContain(SECRET);
    const objErr = catchArmError(() => plan(t, { pwd: { value: 'a' }, obj: { value: { key: SECRET } } }));
    expect(JSON.stringify(objErr.toBody())).not.toContain(SECRET);
    // A plain parameter is still quoted, as ARM does.
    expect(catchArmError(() => plan(template({ parameters: { s: { type: 'string', allowedValues: ['a'] } } }), { s: { value: 'zz' } })).message).toContain(
      "The provided value 'zz'",
    );
  });

  it.each([
    ["[int(parameters('pwd'))]"],
    ["[json(parameters('pwd'))]"],
    ["[base64ToString(parameters('pwd'))]"],
    ["[json(base64(parameters('pwd')))]"],
    ["[variables('derived').nope]"],
    ["[parameters('obj').missing]"],
    ["[int(variables('derived'))]"],
  ])('withholds the detail of a failing expression over a secure value: %s', (expression) => {
    const t = template({
      parameters: { pwd: { type: 'securestring' }, obj: { type: 'secureObject' } },
      variables: { derived: "[createObject('wrapped', toUpper(parameters('pwd')))]" },
      resources: [resource('x', { properties: { v: expression } })],
    });
    const err = catchArmError(() => plan(t, { pwd: { value: SECRET }, obj: { value: { [SECRET]: SECRET } } }));
    const body = JSON.stringify(err.toBody());
    expect(err.code).toBe('InvalidTemplate');
    expect(body).toContain('The details are withheld because the expression uses a secure value.');
    expect(body).not.toContain(SECRET);
    expect(body).not.toContain(SECRET.toUpperCase());
    expect(body).not.toContain(Buffer.from(SECRET).toString('base64'));
  });

  it('keeps the detail of errors that do not involve a secure value', () => {
    const t = template({
      parameters: { pwd: { type: 'securestring' } },
      resources: [resource('x', { properties: { v: "[int('abc')]", s: "[parameters('pwd')]" } })],
    });
    expect(catchArmError(() => plan(t, { pwd: { value: SECRET } })).message).toContain('cannot be converted to an integer');
  });

  it('withholds the detail of a failing output over a secure value (the deployment error)', async () => {
    const t = template({
      parameters: { pwd: { type: 'securestring' } },
      outputs: { n: { type: 'int', value: "[int(parameters('pwd'))]" }, s: { type: 'securestring', value: "[parameters('pwd')]" } },
    });
    const p = plan(t, { pwd: { value: SECRET } });
    expect(p.secureVariables).toEqual([]);
    const err = await armErrorAsync(() => evaluateOutputs(p, new InMemoryTemplateHost()));
    expect(err.code).toBe('DeploymentOutputEvaluationFailed');
    expect(JSON.stringify(err.toBody())).toContain('The details are withheld');
    expect(JSON.stringify(err.toBody())).not.toContain(SECRET);
  });

  it('reports the resource body values made from secure values, and what-if masks them on its template side only', () => {
    const t = template({
      parameters: { pwd: { type: 'securestring' }, name: { type: 'string' } },
      resources: [
        resource('x', {
          properties: {
            admin: "[parameters('name')]",
            password: "[parameters('pwd')]",
            derived: "[toUpper(parameters('pwd'))]",
            list: ["[parameters('pwd')]", 'plain'],
          },
        }),
      ],
    });
    const secure = new Set<string>();
    const p = processTemplate(t, { pwd: { value: SECRET }, name: { value: 'azureuser' } }, testContext(), { onSecureValue: (v) => secureStrings(v, secure) });
    expect([...secure].sort()).toEqual([SECRET, SECRET.toUpperCase()].sort());
    const id = p.resources[0]?.id as string;
    const live = {
      [id]: {
        type: 'Microsoft.Storage/storageAccounts',
        name: 'x',
        properties: { admin: 'azureuser', password: 'old', derived: SECRET.toUpperCase(), list: [SECRET, 'plain'] },
      },
    };
    const changes = maskSecureValues(whatIf(p, live), secure);
    const text = JSON.stringify(changes);
    expect(text).toContain('(secure value)');
    expect(changes[0]?.changeType).toBe('Modify');
    // Only the password differs: the derived value and the list compare equal on the real values.
    expect(changes[0]?.delta?.map((d) => d.path)).toEqual(['properties.password']);
    expect(changes[0]?.delta?.[0]?.after).toBe('(secure value)');
    expect(changes[0]?.after?.['properties']).toEqual({
      admin: 'azureuser',
      password: '(secure value)',
      derived: '(secure value)',
      list: ['(secure value)', 'plain'],
    });
  });

  it('records which variables were made from secure values', () => {
    const t = template({
      parameters: { pwd: { type: 'securestring' } },
      variables: { a: "[concat('x', parameters('pwd'))]", b: "[variables('a')]", c: 'plain' },
    });
    expect(plan(t, { pwd: { value: SECRET } }).secureVariables).toEqual(['a', 'b']);
  });
});

describe('reference() and list*() read platform resource ids only', () => {
  const hostile = [
    '//127.0.0.1:6379/x',
    '/subscriptions/s/../../x',
    'https://127.0.0.1:6379/',
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.X/y/n?x=1',
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.X',
    '/%2F127.0.0.1:6379',
  ];

  it.each(hostile)('refuses reference(%j) when validating, with InvalidTemplate', (target) => {
    const t = template({ resources: [resource('x', { properties: { v: `[reference('${target}', '2023-01-01')]` } })] });
    const err = catchArmError(() => plan(t));
    expect(err.code).toBe('InvalidTemplate');
    if (target.startsWith('/')) expect(err.message).toContain('is not valid. Expect a fully qualified resource id');
  });

  it.each(hostile.filter((t) => t.startsWith('/')))('refuses listKeys(%j) when validating', (target) => {
    const t = template({ resources: [resource('x', { properties: { v: `[listKeys('${target}', '2023-01-01')]` } })] });
    expect(catchArmError(() => plan(t)).message).toContain("Unable to evaluate template language function 'listKeys': the resource id");
  });

  it('never asks the host about a non-platform id at deploy time (a plan stored before the check)', async () => {
    const t = template({
      resources: [resource('x', { properties: { v: "[reference(variables('target'), '2023-01-01')]" } })],
      variables: { target: `${RG_ID}/providers/Microsoft.Storage/storageAccounts/ok` },
    });
    const p = plan(t);
    // Tamper with the stored plan as an attacker with database access could; the deploy phase checks again.
    (p.variables as JsonObject)['target'] = '//127.0.0.1:6379/x';
    const host = new InMemoryTemplateHost();
    const err = await armErrorAsync(() => resolveResource(p, p.resources[0]?.id as string, host));
    expect(err.code).toBe('InvalidTemplate');
    expect(err.message).toContain("the resource id '//127.0.0.1:6379/x' is not valid");
    expect(host.calls).toEqual([]);
  });

  it('still resolves a platform resource id', async () => {
    const target = `${RG_ID}/providers/Microsoft.Storage/storageAccounts/other`;
    const p = plan(template({ resources: [resource('x', { properties: { v: `[reference('${target}', '2023-01-01').a]` } })] }));
    const host = new InMemoryTemplateHost({ [target]: { properties: { a: 42 } } });
    expect(await resolveResource(p, p.resources[0]?.id as string, host)).toMatchObject({ properties: { v: 42 } });
  });
});
