import { FIXED_GUID, RG_ID, SUBSCRIPTION, evaluate, evaluationError } from '../../test/helpers';
import { Deferred } from '../expression/evaluator';
import { BUILTIN_FUNCTION_NAMES } from './index';

// Expected values marked "docs" are the outputs shown in Microsoft's ARM template function reference
// (learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-*).

describe('string functions', () => {
  it.each([
    ["[base64('one, two, three')]", 'b25lLCB0d28sIHRocmVl'], // docs
    ["[base64ToString('b25lLCB0d28sIHRocmVl')]", 'one, two, three'], // docs
    ["[base64ToJson('eyJvbmUiOiAiYSIsICJ0d28iOiAiYiJ9').two]", 'b'], // docs
    ["[concat('prefix', '-', 'suffix')]", 'prefix-suffix'],
    ["[concat('a', 1, true)]", 'a1True'],
    ["[dataUri('Hello')]", 'data:text/plain;charset=utf8;base64,SGVsbG8='], // docs
    ["[dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')]", 'Hello, World!'], // docs
    ["[dataUriToString('data:text/plain;charset=UTF-8;page=21,the%20data:1234,5678')]", 'the data:1234,5678'],
    ["[endsWith('abcdef', 'ef')]", true], // docs
    ["[endsWith('abcdef', 'F')]", true], // docs: case-insensitive
    ["[endsWith('abcdef', 'e')]", false], // docs
    ["[first('One Two Three')]", 'O'], // docs
    ["[format('{0}, {1}. Formatted number: {2:N0}', 'Hello', 'User', 8175133)]", 'Hello, User. Formatted number: 8,175,133'], // docs
    ["[format('{0:N2}|{0:F1}|{0:D6}|{0:X}|{1:P0}|{0,8}|{0,-8}|', 255, json('0.5'))]", '255.00|255.0|000255|FF|50 %|     255|255     |'],
    ["[format('{0:#,##0.0}|{0:0000}|{{literal}}', json('1234.56'))]", '1,234.6|1235|{literal}'],
    ["[format('{0} {1} {2}', true, createArray(1, 'a'), null())]", "True [1,'a'] "],
    ["[indexOf('test', 't')]", 0], // docs
    ["[indexOf('abcdef', 'CD')]", 2], // docs
    ["[indexOf('abcdef', 'z')]", -1], // docs
    ["[indexOf('abcdef', '')]", 0],
    ["[last('One Two Three')]", 'e'], // docs
    ["[lastIndexOf('test', 't')]", 3], // docs
    ["[lastIndexOf('abcdef', 'AB')]", 0], // docs
    ["[lastIndexOf('abcdef', '')]", 5], // ArmLinter's recorded Azure behaviour (.NET LastIndexOf(""))
    ["[padLeft('123', 10, '0')]", '0000000123'], // docs
    ['[padLeft(7, 3)]', '  7'],
    ["[replace('123-123-1234', '-', '')]", '1231231234'], // docs
    ["[replace('123-123-1234', '1234', 'xxxx')]", '123-123-xxxx'], // docs
    ["[skip('one two three', 4)]", 'two three'], // docs
    ["[split('one,two,three', ',')]", ['one', 'two', 'three']], // docs
    ["[split('one;two,three', createArray(',', ';'))]", ['one', 'two', 'three']], // docs
    ["[split('a,,b', ',')]", ['a', '', 'b']],
    ["[startsWith('abcdef', 'ab')]", true], // docs
    ["[startsWith('abcdef', 'A')]", true], // docs
    ["[startsWith('abcdef', 'e')]", false], // docs
    ["[string(createObject('valueA', 10, 'valueB', 'Example Text'))]", '{"valueA":10,"valueB":"Example Text"}'], // docs
    ["[string(createArray('a', 'b', 'c'))]", '["a","b","c"]'], // docs
    ['[string(5)]', '5'], // docs
    ['[string(true())]', 'True'],
    ["[substring('one two three', 4, 3)]", 'two'], // docs
    ["[substring('one two three', 4)]", 'two three'],
    ["[substring('', 0)]", ''],
    ["[take('one two three', 2)]", 'on'], // docs
    ["[toLower('One Two Three')]", 'one two three'], // docs
    ["[toUpper('One Two Three')]", 'ONE TWO THREE'], // docs
    ["[trim('    one two three   ')]", 'one two three'], // docs
    ["[uri('http://contoso.com/resources/', 'nested/azuredeploy.json')]", 'http://contoso.com/resources/nested/azuredeploy.json'], // docs
    ["[uriComponent('http://contoso.com/resources/nested/azuredeploy.json')]", 'http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json'], // docs
    ["[uriComponent('(a)!*')]", '%28a%29%21%2A'],
    ["[uriComponentToString('http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json')]", 'http://contoso.com/resources/nested/azuredeploy.json'], // docs
    ["[join(createArray('a', 'b', 'c'), ',')]", 'a,b,c'],
    ["[uniqueString('hello', 'world')]", 'a7wkljktk6wne'],
    ["[guid('a', 'b', 'c')]", 'a98fa280-e03f-5afa-8d8e-92d0a9c201e8'],
  ])('%s is %j', (expression, expected) => {
    expect(evaluate(expression)).toEqual(expected);
  });

  it('evaluates newGuid() and utcNow() in parameter default values', () => {
    expect(evaluate('[newGuid()]', { site: 'parameterDefault' })).toBe(FIXED_GUID);
    expect(evaluate('[utcNow()]', { site: 'parameterDefault' })).toBe('20190305T175318Z'); // docs format
    expect(evaluate("[utcNow('u')]", { site: 'parameterDefault' })).toBe('2019-03-05 17:53:18Z'); // docs
    expect(evaluate("[utcNow('d')]", { site: 'parameterDefault' })).toBe('3/5/2019'); // docs
    expect(evaluate("[utcNow('yyyy-MM-dd HH:mm:ss.fff')]", { site: 'parameterDefault' })).toBe('2019-03-05 17:53:18.123');
  });

  it.each(['[newGuid()]', '[utcNow()]'])('rejects %s outside a parameter default value', (expression) => {
    expect(evaluationError(expression)).toMatch(/is not expected at this location/);
  });

  it.each([
    ["[substring('one two three', -1, 3)]", "the index parameter cannot be less than zero. The index: '-1'."],
    [
      "[substring('one two three', 99, 3)]",
      "the index parameter cannot be larger than the length of the string. The index parameter: '99', the length of the string parameter: '13'.",
    ],
    [
      "[substring('one', 1, 3)]",
      "the index and length parameters must refer to a location within the string. The index parameter: '1', the length parameter: '3', the length of the string parameter: '3'.",
    ],
    ["[substring('one two three', 3, -1)]", "the length parameter cannot be less than zero. The length parameter: '-1'."],
    ["[replace('abc', '', 'x')]", 'the second parameter cannot be an empty string.'],
    ["[base64ToString('not base64!')]", "the value 'not base64!' is not a valid base64 string."],
    ['[toLower(1)]', "the first parameter must be a string, but it is of type 'Integer'."],
    ["[format('{1}', 'a')]", 'Index (zero based) must be greater than or equal to zero and less than the size of the argument list.'],
    ["[format('{0:Q}', 1)]", "the format specifier 'Q' is not supported."],
    ["[format('{0', 1)]", 'Input string was not in a correct format.'],
    ["[uri('relative/path', 'x')]", "the base URI 'relative/path' is not a valid absolute URI."],
    ['[uniqueString(1)]', "the first parameter must be a string, but it is of type 'Integer'."],
    ["[padLeft('a', 3, 'xy')]", 'the padding character must be a single character.'],
    ['[guid()]', 'the function expects at least 1 parameter but received 0.'],
  ])('%s fails: %s', (expression, detail) => {
    expect(evaluationError(expression)).toContain(detail);
  });
});

describe('logical and comparison functions', () => {
  it.each([
    ['[and(true(), false())]', false], // docs
    ['[and(true(), true(), true())]', true],
    ['[or(true(), false())]', true], // docs
    ['[not(true())]', false], // docs
    ["[bool('true')]", true], // docs
    ["[bool('False')]", false],
    ['[bool(0)]', false], // docs
    ['[bool(1)]', true], // docs
    ['[true()]', true],
    ['[false()]', false],
    ['[equals(1, 1)]', true],
    ["[equals('a', 'A')]", false],
    ["[equals(createArray('a', 'b'), createArray('a', 'b'))]", true], // docs
    ["[equals(createObject('a', 1), json('{\"a\": 1}'))]", true],
    ['[less(5, 10)]', true], // docs
    ["[less('A', 'a')]", false], // docs (template-functions-comparison: checkStrings False)
    ["[less('a', 'B')]", true], // not ordinal: 'a' (97) sorts before 'B' (66)
    ['[lessOrEquals(10, 10)]', true],
    ['[greater(10, 5)]', true], // docs
    ["[greater('A', 'a')]", true], // docs (template-functions-comparison: checkStrings True)
    ["[greaterOrEquals('abc', 'abd')]", false],
    ['[greaterOrEquals(5, 10)]', false],
    ["[if(equals(1, 1), 'yes', 'no')]", 'yes'],
    ["[if(false(), 'yes', 'no')]", 'no'],
  ])('%s is %j', (expression, expected) => {
    expect(evaluate(expression)).toEqual(expected);
  });

  it('evaluates only the branch if() takes', () => {
    expect(evaluate("[if(true(), 'safe', div(1, 0))]")).toBe('safe');
    expect(evaluate("[if(false(), parameters('missing'), 'safe')]")).toBe('safe');
  });

  it.each([
    ["[and(true(), 'x')]", "the second parameter must be a boolean, but it is of type 'String'."],
    ["[if('yes', 1, 2)]", "the first parameter must be a boolean, but it is of type 'String'."],
    ["[less('a', 1)]", "the parameters must both be strings or both be numbers, but they are of type 'String' and 'Integer'."],
    ["[bool('maybe')]", 'the value \'"maybe"\' cannot be converted to a boolean.'],
    ['[not(true(), true())]', 'the function expects exactly 1 parameter but received 2.'],
  ])('%s fails: %s', (expression, detail) => {
    expect(evaluationError(expression)).toContain(detail);
  });
});

describe('numeric functions', () => {
  it.each([
    ['[add(5, 3)]', 8], // docs
    ['[sub(7, 3)]', 4], // docs
    ['[mul(5, 3)]', 15], // docs
    ['[div(8, 3)]', 2], // docs
    ['[div(-7, 2)]', -3],
    ['[mod(7, 3)]', 1], // docs
    ['[mod(-7, 3)]', -1],
    ['[min(createArray(0, 3, 2, 5, 4))]', 0], // docs
    ['[min(0, 3, 2, 5, 4)]', 0], // docs
    ['[max(createArray(0, 3, 2, 5, 4))]', 5], // docs
    ["[int('4')]", 4], // docs
    ["[float('3.5')]", 3.5],
    ['[float(2)]', 2],
    ['[range(1, 5)]', [1, 2, 3, 4, 5]], // docs
    ['[range(5, 0)]', []],
  ])('%s is %j', (expression, expected) => {
    expect(evaluate(expression)).toEqual(expected);
  });

  it.each([
    ['[div(1, 0)]', 'the second parameter cannot be zero.'],
    ['[mod(1, 0)]', 'the second parameter cannot be zero.'],
    ["[add(1, '2')]", "the second parameter must be an integer, but it is of type 'String'."],
    ['[mul(9007199254740991, 2)]', 'the result overflows the supported integer range.'],
    ["[int('4.5')]", 'the value \'"4.5"\' cannot be converted to an integer.'],
    ['[range(0, 10001)]', "the count '10001' must be between 0 and 10000."],
    ['[min(createArray())]', 'the function expects at least one number.'],
  ])('%s fails: %s', (expression, detail) => {
    expect(evaluationError(expression)).toContain(detail);
  });
});

describe('array and object functions', () => {
  const objects = { firstObject: { one: 'a', two: 'b', three: 'c' }, secondObject: { three: 'd', four: 'e' } };

  it.each([
    ["[array('efgh')]", ['efgh']], // docs
    ['[array(createArray(1, 2))]', [1, 2]],
    ["[coalesce(null(), null(), 'default')]", 'default'], // docs
    ['[coalesce(null())]', null],
    ["[concat(createArray('1-1', '1-2'), createArray('2-1'))]", ['1-1', '1-2', '2-1']], // docs
    ["[contains('OneTwoThree', 'e')]", true], // docs
    ["[contains('OneTwoThree', 'z')]", false], // docs
    ["[contains('OneTwoThree', 'one')]", false], // docs: string search is case-sensitive
    ["[contains(createObject('one', 'a'), 'ONE')]", true], // docs: object keys are case-insensitive
    ["[contains(createArray('one', 'two'), 'two')]", true], // docs
    ["[createObject('intProp', 1, 'arrayProp', createArray('a'))]", { intProp: 1, arrayProp: ['a'] }],
    ["[empty('')]", true], // docs
    ['[empty(createArray())]', true],
    ['[empty(createObject())]', true],
    ['[empty(null())]', true],
    ["[first(createArray('one', 'two'))]", 'one'], // docs
    ['[first(createArray())]', null],
    ["[intersection(createArray('one', 'two', 'three'), createArray('two', 'three'))]", ['two', 'three']], // docs
    ['[json(\'{"a": "b"}\').a]', 'b'], // docs
    ["[json('null')]", null],
    ["[json('[1, 2]')[1]]", 2],
    ["[last(createArray('one', 'two'))]", 'two'], // docs
    ["[length(createArray('one', 'two', 'three'))]", 3], // docs
    ["[length('One Two Three')]", 13], // docs
    ["[length(createObject('a', 1, 'b', 2))]", 2],
    ["[skip(createArray('one', 'two', 'three'), 2)]", ['three']], // docs
    ["[skip(createArray('one'), -1)]", ['one']],
    ["[take(createArray('one', 'two', 'three'), 2)]", ['one', 'two']], // docs
    ["[take(createArray('one'), 5)]", ['one']],
    ["[union(createArray('one', 'two', 'three'), createArray('three', 'four'))]", ['one', 'two', 'three', 'four']], // docs
    ["[indexOf(createArray('a', 'b', 'a'), 'a')]", 0],
    ["[lastIndexOf(createArray('a', 'b', 'a'), 'a')]", 2],
    ['[indexOf(createArray(1, 2), 3)]', -1],
    ['[null()]', null],
    ["[tryGet(createObject('a', createObject('b', 1)), 'a', 'b')]", 1],
    ["[tryGet(createObject('a', 1), 'missing')]", null],
    ["[objectKeys(createObject('a', 1, 'b', 2))]", ['a', 'b']],
  ])('%s is %j', (expression, expected) => {
    expect(evaluate(expression)).toEqual(expected);
  });

  it('merges objects with union(), later values winning and nested objects merged', () => {
    // docs: union(firstObject, secondObject) = {one:a, two:b, three:d, four:e}
    expect(evaluate("[union(variables('firstObject'), variables('secondObject'))]", { variables: objects })).toEqual({
      one: 'a',
      two: 'b',
      three: 'd',
      four: 'e',
    });
    expect(evaluate('[union(json(\'{"p": {"a": 1, "b": 2}}\'), json(\'{"p": {"b": 3}}\'))]')).toEqual({ p: { a: 1, b: 3 } });
  });

  it('intersects objects on keys with equal values', () => {
    expect(evaluate("[intersection(variables('firstObject'), createObject('one', 'a', 'two', 'z'))]", { variables: objects })).toEqual({ one: 'a' });
  });

  it('lists the properties of an object with items(), sorted by key', () => {
    expect(evaluate("[items(createObject('b', 2, 'A', 1))]")).toEqual([
      { key: 'A', value: 1 },
      { key: 'b', value: 2 },
    ]);
  });

  it.each([
    ['[union(createArray(1), createObject())]', "the second parameter must be an array like the first parameter, but it is of type 'Object'."],
    ["[createObject('a', 1, 'A', 2)]", "the property name 'A' is used more than once."],
    ["[createObject('a')]", 'the function expects an even number of parameters but received 1.'],
    ["[concat(createArray(1), 'a')]", "the parameters must all be arrays or all be strings, but parameter 1 is of type 'Array'."],
    ['[length(1)]', "the first parameter must be an array, an object or a string, but it is of type 'Integer'."],
    ["[json('{oops')]", "the value '{oops' is not valid JSON."],
    ['[items(createArray())]', "the first parameter must be an object, but it is of type 'Array'."],
  ])('%s fails: %s', (expression, detail) => {
    expect(evaluationError(expression)).toContain(detail);
  });
});

describe('property and index access', () => {
  const variables = { obj: { Name: 'n', list: [1, 2, 3] } };

  it('reads object properties case-insensitively and array elements by index', () => {
    expect(evaluate("[variables('obj').name]", { variables })).toBe('n');
    expect(evaluate("[variables('obj')['LIST'][2]]", { variables })).toBe(3);
  });

  it.each([
    ["[variables('obj').missing]", "The language expression property 'missing' doesn't exist, available properties are 'Name, list'."],
    ["[variables('obj').list[3]]", "The language expression property array index '3' is out of bounds."],
    ["[variables('obj').name.first]", "The language expression property 'first' can't be evaluated, the value of type 'String' is not an object."],
  ])('%s fails with %s', (expression, message) => {
    expect(evaluationError(expression, { variables })).toBe(message);
  });
});

describe('deployment functions', () => {
  it('answers from the deployment context', () => {
    expect(evaluate('[resourceGroup()]')).toEqual({
      id: RG_ID,
      name: 'rg1',
      type: 'Microsoft.Resources/resourceGroups',
      location: 'westeurope',
      properties: { provisioningState: 'Succeeded' },
    });
    expect(evaluate('[subscription().subscriptionId]')).toBe(SUBSCRIPTION);
    expect(evaluate('[subscription().id]')).toBe(`/subscriptions/${SUBSCRIPTION}`);
    expect(evaluate('[deployment().name]')).toBe('deploy1');
    expect(evaluate('[deployment().properties.template.contentVersion]')).toBe('1.0.0.0');
    expect(evaluate('[environment().name]')).toBe('AzureCloud');
    expect(evaluate('[environment().resourceManager]')).toBe('https://management.azure.com/');
    expect(evaluate('[tenant().tenantId]')).toBe('72f988bf-86f1-41af-91ab-2d7cd011db47');
  });

  it('reads parameters and variables case-insensitively', () => {
    expect(evaluate("[parameters('SIZE')]", { parameters: { size: 3 } })).toBe(3);
    expect(evaluate("[variables('Name')]", { variables: { name: 'x' } })).toBe('x');
  });

  it('rejects variables() in a parameter default value', () => {
    expect(evaluationError("[variables('a')]", { site: 'parameterDefault', variables: { a: 1 } })).toMatch(
      /The template function 'variables' is not expected at this location/,
    );
  });

  it('answers copyIndex() from the enclosing loops, with an offset', () => {
    const loops = [
      { name: 'outer', index: 2, resource: true },
      { name: 'disks', index: 1, resource: false },
    ];
    expect(evaluate('[copyIndex()]', { loops })).toBe(2);
    expect(evaluate('[copyIndex(1)]', { loops })).toBe(3);
    expect(evaluate("[copyIndex('disks')]", { loops })).toBe(1);
    expect(evaluate("[copyIndex('DISKS', 10)]", { loops })).toBe(11);
  });

  it('rejects copyIndex() outside a copy loop', () => {
    expect(evaluationError('[copyIndex()]')).toMatch(/The template function 'copyIndex' is not expected at this location/);
    expect(evaluationError("[copyIndex('nope')]", { loops: [{ name: 'x', index: 0, resource: true }] })).toMatch(/invalid loop name 'nope'/);
  });
});

describe('resource functions', () => {
  const providers = `${RG_ID}/providers`;

  it.each([
    ["[resourceId('Microsoft.ContainerService/managedClusters', 'aks1')]", `${providers}/Microsoft.ContainerService/managedClusters/aks1`],
    [
      "[resourceId('Microsoft.ContainerService/managedClusters/agentPools', 'aks1', 'pool1')]",
      `${providers}/Microsoft.ContainerService/managedClusters/aks1/agentPools/pool1`,
    ],
    ["[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet/subnet')]", `${providers}/Microsoft.Network/virtualNetworks/vnet/subnets/subnet`],
    [
      "[resourceId('otherRg', 'Microsoft.Storage/storageAccounts', 'acct')]",
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/otherRg/providers/Microsoft.Storage/storageAccounts/acct`,
    ],
    [
      "[resourceId('11111111-1111-1111-1111-111111111111', 'otherRg', 'Microsoft.Storage/storageAccounts', 'acct')]",
      '/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/otherRg/providers/Microsoft.Storage/storageAccounts/acct',
    ],
    [
      "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b24988ac-6180-42a0-ab88-20f7382dd24c')]",
      `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
    ],
    ["[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'p1')]", '/providers/Microsoft.Authorization/policyDefinitions/p1'],
    ["[extensionResourceId(resourceGroup().id, 'Microsoft.Authorization/locks', 'lock1')]", `${RG_ID}/providers/Microsoft.Authorization/locks/lock1`],
    // Forms public templates write: slashes at either end of the type or of a name carry nothing (the AKS quickstart's
    // `resourceId('Microsoft.ContainerService/managedClusters/', name)`).
    ["[resourceId('Microsoft.ContainerService/managedClusters/', 'aks1')]", `${providers}/Microsoft.ContainerService/managedClusters/aks1`],
    ["[resourceId('/Microsoft.ContainerService/managedClusters', 'aks1')]", `${providers}/Microsoft.ContainerService/managedClusters/aks1`],
    [
      "[resourceId('Microsoft.ContainerService/managedClusters/agentPools/', concat('aks1', '/'), 'pool1')]",
      `${providers}/Microsoft.ContainerService/managedClusters/aks1/agentPools/pool1`,
    ],
    ["[resourceId('Microsoft.Network/virtualNetworks/subnets/', '/vnet/subnet')]", `${providers}/Microsoft.Network/virtualNetworks/vnet/subnets/subnet`],
    [
      "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions/', 'b24988ac-6180-42a0-ab88-20f7382dd24c')]",
      `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
    ],
    ["[tenantResourceId('Microsoft.Authorization/policyDefinitions/', 'p1')]", '/providers/Microsoft.Authorization/policyDefinitions/p1'],
  ])('%s is %s', (expression, expected) => {
    expect(evaluate(expression)).toBe(expected);
  });

  it.each([
    [
      "[resourceId('Microsoft.ContainerService/managedClusters/agentPools', 'aks1')]",
      "the type 'Microsoft.ContainerService/managedClusters/agentPools' requires '2' resource name argument(s).",
    ],
    ["[resourceId('a', 'b', 'c', 'd')]", 'a fully qualified resource type (Namespace/type) was expected among the first parameters.'],
    ["[providers('Microsoft.Web', 'sites')]", "The template function 'providers' is not supported by this service"],
  ])('%s fails: %s', (expression, detail) => {
    expect(evaluationError(expression)).toContain(detail);
  });

  it('defers reference() and list*() while planning, reporting each call', () => {
    const calls: unknown[] = [];
    const deployTime = (call: unknown) => {
      calls.push(call);
      return Deferred.value;
    };
    expect(evaluate("[reference('aks1').fqdn]", { site: 'resourceBody', deployTime })).toBe('<deferred>');
    expect(
      evaluate("[concat('x', listKeys(resourceId('Microsoft.Storage/storageAccounts', 's'), '2023-01-01').keys[0].value)]", {
        site: 'resourceBody',
        deployTime,
      }),
    ).toBe('<deferred>');
    expect(evaluate("[reference('aks1', '2024-01-01', 'Full')]", { site: 'output', deployTime })).toBe('<deferred>');
    expect(calls).toEqual([
      { function: 'reference', target: 'aks1' },
      { function: 'listKeys', target: `${providers}/Microsoft.Storage/storageAccounts/s`, apiVersion: '2023-01-01' },
      { function: 'reference', target: 'aks1', apiVersion: '2024-01-01', full: true },
    ]);
  });

  it.each(['variable', 'resourceIdentity', 'parameterDefault'] as const)('rejects reference() in a %s', (site) => {
    expect(evaluationError("[reference('x')]", { site })).toMatch(/The template function 'reference' is not expected at this location/);
  });

  it('reports listKeys() without an api version', () => {
    expect(evaluationError("[listKeys('x')]", { site: 'resourceBody', deployTime: () => Deferred.value })).toContain(
      'the function expects two or three parameters.',
    );
  });
});

describe('function names', () => {
  it('are case-insensitive', () => {
    expect(evaluate("[CONCAT(ToUpper('a'), tolower('B'))]")).toBe('Ab');
  });

  it('reports an unknown function with ARM wording', () => {
    expect(evaluationError("[nosuchfunction('a')]")).toBe(
      "The template function 'nosuchfunction' is not found. Please see https://aka.ms/arm-functions for usage details.",
    );
  });

  it('covers every function named in the brief', () => {
    const required = `concat format toLower toUpper substring replace split uniqueString guid base64 base64ToString startsWith
      endsWith trim padLeft string indexOf lastIndexOf newGuid utcNow uri dataUri and or not equals less lessOrEquals greater
      greaterOrEquals if bool true false add sub mul div mod min max int float createArray createObject union intersection
      contains length first last empty json range coalesce array take skip items null parameters variables deployment
      resourceGroup subscription environment copyIndex resourceId subscriptionResourceId tenantResourceId
      extensionResourceId reference list* providers`.split(/\s+/);
    expect(required.filter((f) => !BUILTIN_FUNCTION_NAMES.includes(f))).toEqual([]);
  });
});
