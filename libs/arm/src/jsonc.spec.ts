import { acceptsJsonc, parseDeploymentBody, parseJsonc } from './jsonc';

describe('parseJsonc', () => {
  it('drops line and block comments and trailing commas outside strings', () => {
    const text = `{
      // a comment
      "a": [1, 2, /* two */ 3,],
      "b": "keeps // and /* */ and , ] inside strings", /* end */
      "c": { "d": "x\\"y", },
    }`;
    expect(parseJsonc(text)).toEqual({ a: [1, 2, 3], b: 'keeps // and /* */ and , ] inside strings', c: { d: 'x"y' } });
  });

  it('reads the unquoted property name az puts before the spliced template file', () => {
    const text = '{"properties": {"parameters": {"n": {"value": true}}, "whatIfSettings": {}, template:{\r\n  // c\r\n  "a": null, "b": false\r\n}\r\n}}';
    expect(parseJsonc(text)).toEqual({ properties: { parameters: { n: { value: true } }, whatIfSettings: {}, template: { a: null, b: false } } });
    expect(parseJsonc('{ $k_1 : [true] }')).toEqual({ $k_1: [true] });
  });

  it('still rejects malformed JSON', () => {
    expect(() => parseJsonc('{"a": }')).toThrow(SyntaxError);
    expect(() => parseJsonc('{"a": 1,, }')).toThrow(SyntaxError);
    expect(() => parseJsonc('{"a": yes}')).toThrow(SyntaxError);
    expect(() => parseJsonc('{"a": 1 b: 2}')).toThrow(SyntaxError);
  });

  it('applies to deployment routes only', () => {
    expect(acceptsJsonc('/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments/d?api-version=1')).toBe(true);
    expect(acceptsJsonc('/subscriptions/s/resourcegroups/rg/providers/Microsoft.Resources/deployments/d/whatIf')).toBe(true);
    expect(acceptsJsonc('/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c')).toBe(false);
  });
});

describe('parseDeploymentBody', () => {
  // az: json.dumps(body)[:-2] + ", template:" + file + "}}", with the file's text as it is.
  const dumps = (v: unknown): string =>
    // Python's json.dumps: ", " and ": " separators, nothing else
    Array.isArray(v)
      ? `[${v.map(dumps).join(', ')}]`
      : v !== null && typeof v === 'object'
        ? `{${Object.entries(v)
            .map(([k, x]) => `${JSON.stringify(k)}: ${dumps(x)}`)
            .join(', ')}}`
        : JSON.stringify(v);
  const azSplice = (body: Record<string, unknown>, file: string): string => `${dumps(body).slice(0, -2)}, template:${file}}}`;
  const file = '// a template, with a comment\n{\n  "$schema": "x#", "resources": [ { "name": "[\'a, template:b\']" }, ],\n}\n';
  const template = { $schema: 'x#', resources: [{ name: "['a, template:b']" }] };

  it('reads the group-scope splice (properties last) as JSONC', () => {
    const properties = { mode: 'Incremental', parameters: { n: { value: 1 } } };
    expect(parseDeploymentBody(azSplice({ properties }, file))).toEqual({ properties: { ...properties, template } });
  });

  it('reads the subscription-scope splice, where the cut lands inside the last string (location), as az meant it', () => {
    const properties = { parameters: { rg: { value: 'r, template:x' } }, mode: 'Incremental' };
    const text = azSplice({ properties, location: 'eastus' }, file);
    expect(text).toContain('"location": "eastus, template:// a template');
    expect(parseDeploymentBody(text)).toEqual({ properties: { ...properties, template }, location: 'eastus' });
  });

  it('keeps the JSON error for anything else', () => {
    expect(() => parseDeploymentBody('{"location": "eastus, template:{}')).toThrow(SyntaxError);
    expect(() => parseDeploymentBody('{"properties": 1, "location": "eastus, template:{}}}')).toThrow(SyntaxError);
    expect(() => parseDeploymentBody('{"a": }')).toThrow(SyntaxError);
  });
});
