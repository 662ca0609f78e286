import { assertAgentPoolName, assertClusterName, assertGenericName, assertResourceGroupName, assertSubscriptionId } from './names';
import { catchArmError } from '../../../test-support/catch-arm-error';

const nameOfLength = (length: number, char = 'a'): string => char.repeat(length);

describe('assertResourceGroupName (R1.6)', () => {
  const sut = assertResourceGroupName;

  it.each([
    ['one character', 'a'],
    ['90 characters', nameOfLength(90)],
    ['letters, digits, hyphens, underscores, periods and parentheses', 'My-RG_1.(test)'],
    ['a name that only looks like a fixed segment', 'providers'],
    ['a period that is not last', 'rg.prod'],
  ])('accepts %s', (_label, name) => {
    expect(() => sut(name)).not.toThrow();
  });

  it.each([
    ['an empty name', ''],
    ['91 characters', nameOfLength(91)],
    ['a trailing period', 'rg.'],
    ['a space', 'my rg'],
    ['a slash', 'rg/x'],
    ['an asterisk', 'rg*'],
  ])('refuses %s with 400', (_label, name) => {
    const error = catchArmError(() => sut(name));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidResourceGroupName');
    expect(error.target).toBe('resourceGroupName');
  });

  it('names the refused value in the message', () => {
    expect(catchArmError(() => sut('rg.')).message).toContain("'rg.'");
  });
});

describe('assertClusterName (R1.6)', () => {
  const sut = assertClusterName;

  it.each([
    ['one letter', 'a'],
    ['one digit', '7'],
    ['63 characters', `a${nameOfLength(61, 'b')}c`],
    ['upper case, hyphens and underscores inside', 'My-Cluster_01'],
  ])('accepts %s', (_label, name) => {
    expect(() => sut(name)).not.toThrow();
  });

  it.each([
    ['an empty name', ''],
    ['64 characters', nameOfLength(64)],
    ['a leading hyphen', '-cluster'],
    ['a trailing hyphen', 'cluster-'],
    ['a trailing underscore', 'cluster_'],
    ['a period', 'my.cluster'],
    ['a single hyphen', '-'],
  ])('refuses %s with 400', (_label, name) => {
    const error = catchArmError(() => sut(name));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidResourceName');
    expect(error.target).toBe('resourceName');
  });
});

describe('assertAgentPoolName (R1.6)', () => {
  const sut = assertAgentPoolName;

  it.each([
    ['one letter', 'a'],
    ['12 characters', 'nodepool1234'],
    ['letters then digits', 'np1'],
  ])('accepts %s', (_label, name) => {
    expect(() => sut(name)).not.toThrow();
  });

  it.each([
    ['an empty name', ''],
    ['13 characters', 'nodepool12345'],
    ['upper case', 'NodePool1'],
    ['a single upper-case letter', 'A'],
    ['a leading digit', '1pool'],
    ['a hyphen', 'node-pool'],
    ['an underscore', 'node_pool'],
  ])('refuses %s with 400', (_label, name) => {
    const error = catchArmError(() => sut(name));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidParameter');
    expect(error.target).toBe('agentPoolName');
  });
});

describe('assertGenericName (R1.6)', () => {
  const sut = assertGenericName;

  it.each([
    ['one character', 'x'],
    ['260 characters', nameOfLength(260)],
    ['dots, spaces and hyphens', 'my deployment-1.v2'],
  ])('accepts %s', (_label, name) => {
    expect(() => sut(name, 'deploymentName')).not.toThrow();
  });

  it.each([
    ['an empty name', ''],
    ['261 characters', nameOfLength(261)],
    ...['<', '>', '%', '&', ':', '\\', '?', '/'].map((c): [string, string] => [`the character ${c}`, `bad${c}name`]),
    ['a control character', 'bad\u0001name'],
    ['a newline', 'bad\nname'],
    ['DEL', 'bad\u007fname'],
  ])('refuses %s with 400 and the given target', (_label, name) => {
    const error = catchArmError(() => sut(name, 'deploymentName'));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidResourceName');
    expect(error.target).toBe('deploymentName');
  });
});

describe('assertSubscriptionId', () => {
  const sut = assertSubscriptionId;

  it.each(['00000000-0000-0000-0000-000000000001', 'ABCDEF01-2345-6789-ABCD-EF0123456789'])('accepts the GUID %s in any case', (id) => {
    expect(() => sut(id)).not.toThrow();
  });

  it.each(['', 'not-a-guid', '00000000000000000000000000000001', '{00000000-0000-0000-0000-000000000001}'])('refuses %p with 400', (id) => {
    const error = catchArmError(() => sut(id));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidSubscriptionId');
  });
});
