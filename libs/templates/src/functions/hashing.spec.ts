import { execFileSync } from 'node:child_process';
import { armGuid, murmurHash64, uniqueString, uuidV5 } from './hashing';

describe('uniqueString', () => {
  // Every expected value below was produced by Azure (or by Microsoft's Azure.Deployments.Expression package):
  it.each([
    // github.com/takekazuomi/arm-uniquestring README: the Azure.Deployments.Expression NuGet package's output.
    [['test'], 'rbgf3xv4ufgzg'],
    // github.com/JasonWhall/go-azure-uniquestring README (hash 571013382255652050).
    [['hello', 'world'], 'a7wkljktk6wne'],
    // github.com/KingslandConsulting/Kingsland.ArmLinter ArmFunctions_UniqueString.cs: outputs of real deployments.
    [['aaa'], 'zavj67f3en4hc'],
    [['bbb'], 'w5eragfxe33cy'],
    [['zzz'], 'cryksdzzzawae'],
    [['xxx', 'yyy', 'zzz'], 'lghi7k5js7itq'],
    // github.com/Azure/terraform-provider-azapi internal/services/functions/unique_string_function_test.go.
    [['/subscriptions/00000000-0000-0000-0000-000000000000', 'resource-id'], 'cwvxuqg24sifi'],
    // github.com/microsoft/commercial-marketplace-offer-deploy test/Tests/UnitTests/ArmFunctionsTests.cs
    // ("UniqueStringShouldEqualValueCreatedFromArmTemplate").
    [
      [
        '/subscriptions/31e9f9a0-9fd2-4294-a0a3-0101246d9700/resourceGroups/rg-modm201-20230913120256/providers/Microsoft.Compute/virtualMachines/bobjacmodm201',
      ],
      'yvjxno3je5on2',
    ],
  ])('uniqueString(%j) is %s', (parts, expected) => {
    expect(uniqueString(parts)).toBe(expected);
  });

  it('joins its arguments with a dash before hashing', () => {
    expect(uniqueString(['a', 'b'])).toBe(uniqueString(['a-b']));
    expect(uniqueString(['a', 'b'])).not.toBe(uniqueString(['ab']));
  });

  it('is case-sensitive', () => {
    expect(uniqueString(['ABC'])).not.toBe(uniqueString(['abc']));
  });

  it('always yields 13 lower-case base32 characters, for every tail length of the hash input', () => {
    for (let n = 0; n < 40; n++) expect(uniqueString(['x'.repeat(n)])).toMatch(/^[a-z2-7]{13}$/);
  });

  it('hashes the UTF-8 bytes of the input', () => {
    expect(murmurHash64(Buffer.from('é', 'utf8'))).not.toEqual(murmurHash64(Buffer.from('e', 'utf8')));
  });
});

describe('guid', () => {
  // ARM's guid() is UUID v5 (SHA-1) over the dash-joined arguments in the namespace
  // 11fb06fb-712d-4ddd-98c7-e71bbd588830 (Azure.Deployments.Expression ExpressionBuiltInFunctions.ARMNamespaceGuid,
  // GuidUtility.Create(..., version: 5)). No Azure-published input/output pairs were found, so these vectors are
  // checked against an independent implementation: Python's uuid.uuid5 (run below when python3 is present).
  it.each([
    [['a', 'b', 'c'], 'a98fa280-e03f-5afa-8d8e-92d0a9c201e8'],
    [['test'], 'd6a5baf1-8b9b-542a-8525-2982f1f98a0c'],
    [['/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg'], 'bb733f78-f75f-5345-b2b1-ca384ca6fcab'],
  ])('guid(%j) is %s', (parts, expected) => {
    expect(armGuid(parts)).toBe(expected);
  });

  it('matches the RFC 9562 (appendix A.4) example of a version 5 UUID (DNS namespace, "www.example.com")', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('agrees with Python uuid.uuid5 for assorted inputs', () => {
    const inputs = ['', 'x', 'ünïcode', 'a-b', '/subscriptions/1/resourceGroups/2/providers/Microsoft.X/y/z'];
    let python: string;
    try {
      python = execFileSync(
        'python3',
        [
          '-c',
          "import sys,uuid,json;ns=uuid.UUID('11fb06fb-712d-4ddd-98c7-e71bbd588830');print(json.dumps([str(uuid.uuid5(ns,s)) for s in json.loads(sys.argv[1])]))",
          JSON.stringify(inputs),
        ],
        { encoding: 'utf8' },
      );
    } catch {
      return; // no python3 on this machine: the fixed vectors above still hold
    }
    expect(inputs.map((i) => armGuid([i]))).toEqual(JSON.parse(python) as string[]);
  });
});
