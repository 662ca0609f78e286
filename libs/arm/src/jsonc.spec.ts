import { acceptsJsonc, parseJsonc } from './jsonc';

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
