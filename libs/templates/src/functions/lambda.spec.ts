import { evaluate, evaluationError, testContext } from '../../test/helpers';
import { Deferred } from '../expression/evaluator';
import { InMemoryTemplateHost } from '../template/in-memory-host';
import { evaluateOutputs, processTemplate } from '../template/processor';
import { JsonObject } from '../values';

// Expected values marked "docs" are the outputs Microsoft's ARM lambda function reference shows for its examples
// (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda).

const dogs = [
  { name: 'Evie', age: 5, interests: ['Ball', 'Frisbee'] },
  { name: 'Casper', age: 3, interests: ['Other dogs'] },
  { name: 'Indy', age: 2, interests: ['Butter'] },
  { name: 'Kira', age: 8, interests: ['Rubs'] },
];
const [evie, casper, indy, kira] = dogs;
const withDogs = { variables: { dogs, itemForLoop: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], ages: [5, 3, 2, 8] } };
const run = (expression: string) => evaluate(expression, withDogs);

describe('filter', () => {
  it.each([
    ["[filter(variables('dogs'), lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5)))]", [evie, kira]], // docs oldDogs
    ["[filter(variables('itemForLoop'), lambda('i', greater(lambdaVariables('i'), 5)))]", [6, 7, 8, 9]], // docs filteredLoop
    ["[filter(range(0, 10), lambda('i', equals(0, mod(lambdaVariables('i'), 2))))]", [0, 2, 4, 6, 8]], // docs isEven
    // docs dogNameIndex: the optional second lambda variable is the element's index.
    [
      "[filter(variables('dogs'), lambda('val', 'i', and(less(lambdaVariables('i'), 2), equals(substring(lambdaVariables('val').name, 0, 1), 'C'))))]",
      [casper],
    ],
    ["[filter(createArray(), lambda('x', false))]", []],
  ])('%s', (expression, expected) => {
    expect(run(expression)).toEqual(expected);
  });
});

describe('map', () => {
  it.each([
    ["[map(variables('dogs'), lambda('dog', lambdaVariables('dog').name))]", ['Evie', 'Casper', 'Indy', 'Kira']], // docs dogNames
    [
      "[map(variables('dogs'), lambda('dog', format('Hello {0}!', lambdaVariables('dog').name)))]",
      ['Hello Evie!', 'Hello Casper!', 'Hello Indy!', 'Hello Kira!'],
    ], // docs sayHi
    [
      "[map(range(0, length(variables('dogs'))), lambda('i', createObject('i', lambdaVariables('i'), 'dog', variables('dogs')[lambdaVariables('i')].name, 'greeting', format('Ahoy, {0}!', variables('dogs')[lambdaVariables('i')].name))))]",
      [
        { i: 0, dog: 'Evie', greeting: 'Ahoy, Evie!' },
        { i: 1, dog: 'Casper', greeting: 'Ahoy, Casper!' },
        { i: 2, dog: 'Indy', greeting: 'Ahoy, Indy!' },
        { i: 3, dog: 'Kira', greeting: 'Ahoy, Kira!' },
      ],
    ], // docs mapObject
    [
      "[map(variables('dogs'), lambda('x', 'i', createObject('index', lambdaVariables('i'), 'val', lambdaVariables('x').name)))]",
      [
        { index: 0, val: 'Evie' },
        { index: 1, val: 'Casper' },
        { index: 2, val: 'Indy' },
        { index: 3, val: 'Kira' },
      ],
    ], // docs mapArrayIndex
    // The agent pool module's availability zones (avm-res-managed-cluster-agent-pool).
    ["[map(coalesce(null(), createArray(1, 2, 3)), lambda('zone', format('{0}', lambdaVariables('zone'))))]", ['1', '2', '3']],
  ])('%s', (expression, expected) => {
    expect(run(expression)).toEqual(expected);
  });

  it('lets an inner lambda read the variables of the lambdas around it', () => {
    expect(run("[map(range(1, 2), lambda('x', map(range(0, 2), lambda('y', add(lambdaVariables('x'), lambdaVariables('y'))))))]")).toEqual([
      [1, 2],
      [2, 3],
    ]);
  });

  it('binds an inner variable over an outer one of the same name', () => {
    expect(run("[map(range(1, 2), lambda('x', map(range(10, 1), lambda('X', lambdaVariables('x')))))]")).toEqual([[10], [10]]);
  });

  it('accepts any case in function and lambda variable names', () => {
    expect(run("[MAP(createArray(1), LAMBDA('Dog', LambdaVariables('DOG')))]")).toEqual([1]);
  });
});

describe('reduce', () => {
  it.each([
    ["[reduce(variables('ages'), 0, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))]", 18], // docs totalAge
    ["[reduce(variables('ages'), 1, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next'))))]", 19], // docs totalAgeAdd1
    // docs oddAge: with a third lambda variable, the index.
    [
      "[reduce(variables('ages'), 0, lambda('cur', 'next', 'i', if(equals(mod(lambdaVariables('i'), 2), 0), add(lambdaVariables('cur'), lambdaVariables('next')), lambdaVariables('cur'))))]",
      7,
    ],
    [
      "[reduce(createArray(createObject('foo', 123), createObject('bar', 456), createObject('baz', 789)), createObject(), lambda('cur', 'next', union(lambdaVariables('cur'), lambdaVariables('next'))))]",
      { foo: 123, bar: 456, baz: 789 },
    ], // docs reduceObjectUnion
    ["[reduce(createArray(), 'initial', lambda('cur', 'next', 'never'))]", 'initial'],
  ])('%s', (expression, expected) => {
    expect(run(expression)).toEqual(expected);
  });

  it("evaluates the managed cluster module's user-assigned identities (reduce over map)", () => {
    const expression =
      "[reduce(map(coalesce(tryGet(parameters('managedIdentities'), 'userAssignedResourceIds'), createArray()), lambda('id', createObject(format('{0}', lambdaVariables('id')), createObject()))), createObject(), lambda('cur', 'next', union(lambdaVariables('cur'), lambdaVariables('next'))))]";
    expect(evaluate(expression, { parameters: { managedIdentities: { userAssignedResourceIds: ['/id/a', '/id/b'] } } })).toEqual({
      '/id/a': {},
      '/id/b': {},
    });
    expect(evaluate(expression, { parameters: { managedIdentities: {} } })).toEqual({});
  });
});

describe('sort', () => {
  it('sorts with the lambda as "goes before" (docs dogsByAge)', () => {
    expect(run("[sort(variables('dogs'), lambda('a', 'b', less(lambdaVariables('a').age, lambdaVariables('b').age)))]")).toEqual([indy, casper, evie, kira]);
  });

  it('keeps elements the lambda does not order in their input order', () => {
    expect(run("[sort(createArray('b1', 'a1', 'b2', 'a2'), lambda('x', 'y', less(first(lambdaVariables('x')), first(lambdaVariables('y')))))]")).toEqual([
      'a1',
      'a2',
      'b1',
      'b2',
    ]);
  });
});

describe('toObject', () => {
  const byName = { Evie: evie, Casper: casper, Indy: indy, Kira: kira };

  it.each([
    ["[toObject(variables('dogs'), lambda('entry', lambdaVariables('entry').name))]", byName], // docs
    ["[toObject(variables('dogs'), lambda('entry', lambdaVariables('entry').name), lambda('entry', lambdaVariables('entry')))]", byName], // docs
  ])('%s', (expression, expected) => {
    expect(run(expression)).toEqual(expected);
  });

  it('maps values with the optional value lambda (docs)', () => {
    const nested = dogs.map(({ name, ...properties }) => ({ name, properties }));
    expect(
      evaluate("[toObject(variables('dogs'), lambda('entry', lambdaVariables('entry').name), lambda('entry', lambdaVariables('entry').properties))]", {
        variables: { dogs: nested },
      }),
    ).toEqual({
      Evie: { age: 5, interests: ['Ball', 'Frisbee'] },
      Casper: { age: 3, interests: ['Other dogs'] },
      Indy: { age: 2, interests: ['Butter'] },
      Kira: { age: 8, interests: ['Rubs'] },
    });
  });

  it('keeps the last element of a repeated key, and a key named __proto__ as a plain property', () => {
    const result = run("[toObject(createArray('a', 'b', 'a', '__proto__'), lambda('k', lambdaVariables('k')), lambda('k', length(lambdaVariables('k'))))]");
    expect(Object.entries(result as JsonObject)).toEqual([
      ['a', 1],
      ['b', 1],
      ['__proto__', 9],
    ]);
  });
});

describe('groupBy', () => {
  it('groups elements by the key the lambda gives them, in input order (docs)', () => {
    expect(run("[groupBy(createArray('foo', 'bar', 'baz'), lambda('x', substring(lambdaVariables('x'), 0, 1)))]")).toEqual({
      f: ['foo'],
      b: ['bar', 'baz'],
    });
  });
});

describe('mapValues', () => {
  it('maps the values of an object and keeps its keys (docs)', () => {
    expect(run("[mapValues(createObject('foo', 'foo'), lambda('val', toUpper(lambdaVariables('val'))))]")).toEqual({ foo: 'FOO' });
  });
});

describe('lambdas and if()', () => {
  it('does not evaluate a lambda function in the branch if() does not take', () => {
    expect(run("[if(true(), 'skipped', map(createArray(0), lambda('x', div(1, lambdaVariables('x')))))]")).toBe('skipped');
  });

  it('evaluates only the branch if() takes inside a lambda', () => {
    expect(run("[map(createArray(0, 2), lambda('x', if(equals(lambdaVariables('x'), 0), 0, div(10, lambdaVariables('x')))))]")).toEqual([0, 5]);
  });

  it('takes the null branch of the agent pool module for VirtualMachines pools', () => {
    const expression =
      "[if(equals(parameters('type'), 'VirtualMachines'), null(), map(coalesce(parameters('availabilityZones'), createArray()), lambda('zone', format('{0}', lambdaVariables('zone')))))]";
    expect(evaluate(expression, { parameters: { type: 'VirtualMachines', availabilityZones: null } })).toBeNull();
    expect(evaluate(expression, { parameters: { type: 'VirtualMachineScaleSets', availabilityZones: [3] } })).toEqual(['3']);
  });
});

describe('deploy-time values', () => {
  const deployTime = () => Deferred.value;

  it('is deferred when a lambda reads a deploy-time value', () => {
    expect(evaluate("[map(createArray(1), lambda('x', reference('a').value))]", { site: 'resourceBody', deployTime })).toBe('<deferred>');
    expect(evaluate("[sort(createArray(2, 1), lambda('a', 'b', reference('a').value))]", { site: 'resourceBody', deployTime })).toBe('<deferred>');
  });

  it('is deferred when its input is a deploy-time value', () => {
    expect(evaluate("[filter(reference('a').items, lambda('x', true()))]", { site: 'resourceBody', deployTime })).toBe('<deferred>');
  });
});

describe('misuse', () => {
  const see = 'Please see https://aka.ms/arm-template-expressions for usage details.';
  it.each([
    ["[lambda('x', 1)]", `The template function 'lambda' is not expected at this location. ${see}`],
    ["[createArray(lambda('x', 1))]", `The template function 'lambda' is not expected at this location. ${see}`],
    ["[reduce(createArray(1), lambda('a', 'b', 1), 0)]", `The template function 'lambda' is not expected at this location. ${see}`],
    ["[lambdaVariables('x')]", `The template function 'lambdaVariables' is not expected at this location. ${see}`],
    ["[map(createArray(1), lambda('x', lambdaVariables('y')))]", `The template lambda variable 'y' is not found. ${see}`],
    [
      "[map(createArray(1), lambda('x', lambdaVariables(1)))]",
      "Unable to evaluate template language function 'lambdaVariables': the first parameter must be a string, but it is of type 'Integer'.",
    ],
    ["[map('abc', lambda('x', 1))]", "Unable to evaluate template language function 'map': the first parameter must be an array, but it is of type 'String'."],
    [
      "[filter(createObject('a', 1), lambda('x', true()))]",
      "Unable to evaluate template language function 'filter': the first parameter must be an array, but it is of type 'Object'.",
    ],
    [
      "[mapValues(createArray(1), lambda('x', 1))]",
      "Unable to evaluate template language function 'mapValues': the first parameter must be an object, but it is of type 'Array'.",
    ],
    ["[map(createArray(1), 'x')]", "Unable to evaluate template language function 'map': the second parameter must be a lambda function."],
    ['[map(createArray(1))]', "Unable to evaluate template language function 'map': the function expects exactly 2 parameters but received 1."],
    [
      "[reduce(createArray(1), lambda('a', 'b', 1))]",
      "Unable to evaluate template language function 'reduce': the function expects exactly 3 parameters but received 2.",
    ],
    [
      "[toObject(createArray(1), lambda('x', 'k'), lambda('x', 1), lambda('x', 2))]",
      "Unable to evaluate template language function 'toObject': the function expects 2 to 3 parameters but received 4.",
    ],
    [
      "[map(createArray(1), lambda('a', 'b', 'c', 1))]",
      "Unable to evaluate template language function 'map': the lambda function of the second parameter must have 1 or 2 lambda variables, but it has 3.",
    ],
    [
      "[sort(createArray(1), lambda('a', true()))]",
      "Unable to evaluate template language function 'sort': the lambda function of the second parameter must have 2 lambda variables, but it has 1.",
    ],
    [
      "[groupBy(createArray(1), lambda('a', 'i', 'k'))]",
      "Unable to evaluate template language function 'groupBy': the lambda function of the second parameter must have 1 lambda variable, but it has 2.",
    ],
    [
      "[reduce(createArray(1), 0, lambda('a', 1))]",
      "Unable to evaluate template language function 'reduce': the lambda function of the third parameter must have 2 or 3 lambda variables, but it has 1.",
    ],
    [
      '[map(createArray(1), lambda(1))]',
      "Unable to evaluate template language function 'map': the lambda function of the second parameter must have 1 or 2 lambda variables, but it has 0.",
    ],
    [
      "[map(createArray(1), lambda(concat('x'), 1))]",
      "Unable to evaluate template language function 'map': the lambda variable names must be non-empty string literals.",
    ],
    ["[map(createArray(1), lambda('x', 'X', 1))]", "Unable to evaluate template language function 'map': the lambda variable names must be distinct."],
    [
      "[filter(createArray(1), lambda('x', 'yes'))]",
      "Unable to evaluate template language function 'filter': the lambda function must return a boolean, but it returned a value of type 'String'.",
    ],
    [
      "[sort(createArray(1, 2), lambda('a', 'b', 1))]",
      "Unable to evaluate template language function 'sort': the lambda function must return a boolean, but it returned a value of type 'Integer'.",
    ],
    [
      "[toObject(createArray(1), lambda('x', lambdaVariables('x')))]",
      "Unable to evaluate template language function 'toObject': the lambda function must return a string, but it returned a value of type 'Integer'.",
    ],
    [
      "[groupBy(createArray(1), lambda('x', null()))]",
      "Unable to evaluate template language function 'groupBy': the lambda function must return a string, but it returned a value of type 'Null'.",
    ],
  ])('%s', (expression, message) => {
    expect(evaluationError(expression)).toContain(message);
  });

  it('refuses a lambda variable used after its lambda, in another argument', () => {
    expect(evaluationError("[concat(map(createArray(1), lambda('x', 1)), createArray(lambdaVariables('x')))]")).toContain(
      "The template function 'lambdaVariables' is not expected at this location.",
    );
  });
});

describe('in a template', () => {
  const SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';

  it('evaluates lambda functions in variables and outputs', async () => {
    const plan = processTemplate(
      {
        $schema: SCHEMA,
        contentVersion: '1.0.0.0',
        parameters: { names: { type: 'array', defaultValue: ['b', 'a'] } },
        variables: { upper: "[map(parameters('names'), lambda('n', toUpper(lambdaVariables('n'))))]" },
        resources: [],
        outputs: {
          sorted: { type: 'array', value: "[sort(variables('upper'), lambda('x', 'y', less(lambdaVariables('x'), lambdaVariables('y'))))]" },
        },
      },
      undefined,
      testContext(),
    );
    expect(await evaluateOutputs(plan, new InMemoryTemplateHost())).toEqual({ sorted: { type: 'Array', value: ['A', 'B'] } });
  });

  it('reports a misused lambda with the variable that holds it', () => {
    expect(() =>
      processTemplate({ $schema: SCHEMA, contentVersion: '1.0.0.0', variables: { bad: "[lambda('x', 1)]" }, resources: [] }, undefined, testContext()),
    ).toThrow("The template variable 'bad' is not valid: The template function 'lambda' is not expected at this location.");
  });
});
