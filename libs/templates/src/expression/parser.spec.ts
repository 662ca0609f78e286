import { ExpressionError } from '../errors';
import { isExpression, parseExpression, parseTemplateString, tokenize } from './parser';

const parseError = (text: string): string => {
  try {
    parseExpression(text);
  } catch (err) {
    if (err instanceof ExpressionError) return err.message;
    throw err;
  }
  throw new Error(`'${text}' parsed`);
};

describe('template strings', () => {
  it.each([
    ['[concat()]', true],
    ['plain', false],
    ['[[escaped]', false],
    ['[missing end', false],
    ['ends]', false],
  ])('classifies %s as expression=%s', (value, expected) => {
    expect(isExpression(value)).toBe(expected);
  });

  it('unescapes a leading [[ to a literal [', () => {
    expect(parseTemplateString('[[variables(1)]')).toEqual({ kind: 'literal', value: '[variables(1)]' });
  });

  it('keeps a string that only looks bracketed at one end as a literal', () => {
    expect(parseTemplateString('[not an expression')).toEqual({ kind: 'literal', value: '[not an expression' });
  });

  it('parses the text between the outer brackets', () => {
    expect(parseTemplateString("[parameters('a')]")).toMatchObject({ kind: 'expression', text: "parameters('a')" });
  });
});

describe('tokenizer', () => {
  it('reads strings with doubled single quotes as one quote', () => {
    const [token] = tokenize("'it''s'");
    expect(token).toMatchObject({ type: 'String', value: "it's" });
  });

  it('reads negative integers', () => {
    expect(tokenize('add(1, -5)').map((t) => t.type)).toEqual([
      'Identifier',
      'LeftParenthesis',
      'Integer',
      'Comma',
      'Integer',
      'RightParenthesis',
      'EndOfData',
    ]);
  });

  it('names the character and its position when it meets an unexpected one', () => {
    expect(parseError("concat('a' ; 'b')")).toBe(
      "The template language expression 'concat('a' ; 'b')' is not valid: the string character ';' at position '11' is not expected.",
    );
  });

  it('reports an unterminated string literal with its start position', () => {
    expect(parseError("concat('abc")).toBe(
      "The template language expression 'concat('abc' is not valid: the string literal starting at position '7' is not terminated.",
    );
  });
});

describe('parser', () => {
  it('builds nested calls with property and index access', () => {
    expect(parseExpression("reference(resourceId('A.B/c', 'n')).outputs['x'].value")).toEqual({
      kind: 'property',
      name: 'value',
      pos: 49,
      target: {
        kind: 'index',
        pos: 43,
        index: { kind: 'string', value: 'x', pos: 44 },
        target: {
          kind: 'property',
          name: 'outputs',
          pos: 36,
          target: {
            kind: 'call',
            name: 'reference',
            pos: 0,
            args: [
              {
                kind: 'call',
                name: 'resourceId',
                pos: 10,
                args: [
                  { kind: 'string', value: 'A.B/c', pos: 21 },
                  { kind: 'string', value: 'n', pos: 30 },
                ],
              },
            ],
          },
        },
      },
    });
  });

  it('accepts parentheses around a sub-expression', () => {
    expect(parseExpression('(createArray(1, 2))[0]')).toMatchObject({ kind: 'index', target: { kind: 'call', name: 'createArray' } });
  });

  it('accepts bare true, false and null as literals', () => {
    expect(parseExpression('createArray(true, FALSE, null)')).toMatchObject({
      args: [{ kind: 'boolean', value: true }, { kind: 'boolean', value: false }, { kind: 'null' }],
    });
  });

  it('accepts calls without arguments and whitespace anywhere', () => {
    expect(parseExpression('  resourceGroup ( ) . location ')).toMatchObject({ kind: 'property', name: 'location' });
  });

  it.each([
    ["concat('a'", "expected token 'RightParenthesis' and actual 'EndOfData'"],
    ["concat('a'))", "expected token 'EndOfData' and actual 'RightParenthesis'"],
    ["concat('a',)", "expected token 'Identifier' and actual 'RightParenthesis'"],
    ['parameters', "expected token 'LeftParenthesis' and actual 'EndOfData'"],
    ["variables('a').", "expected token 'Identifier' and actual 'EndOfData'"],
    ["variables('a')[0", "expected token 'RightSquareBracket' and actual 'EndOfData'"],
    ['1.5', "expected token 'Identifier' and actual 'Integer'"],
  ])('rejects %s: %s', (text, detail) => {
    expect(parseError(text)).toBe(`Unable to parse language expression '${text}': ${detail}.`);
  });

  it('rejects an empty expression', () => {
    expect(parseError('  ')).toBe("The template language expression '  ' is not valid: the expression is empty.");
  });
});
