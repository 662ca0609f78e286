import { ExpressionError } from '../errors';

/** Positions are 0-based offsets into the expression text between the outer brackets. */
export type Expr =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'integer'; value: number; pos: number }
  | { kind: 'boolean'; value: boolean; pos: number }
  | { kind: 'null'; pos: number }
  | { kind: 'call'; name: string; args: Expr[]; pos: number }
  | { kind: 'property'; target: Expr; name: string; pos: number }
  | { kind: 'index'; target: Expr; index: Expr; pos: number };

/** A JSON string of a template, classified: `[...]` is an expression, `[[...` escapes a literal `[`. */
export type TemplateString = { kind: 'literal'; value: string } | { kind: 'expression'; text: string; ast: Expr };

export function isExpression(value: string): boolean {
  return value.startsWith('[') && !value.startsWith('[[') && value.endsWith(']');
}

/** Classifies and parses one template string. Throws ExpressionError with ARM's message on a syntax error. */
export function parseTemplateString(value: string): TemplateString {
  if (value.startsWith('[[')) return { kind: 'literal', value: value.slice(1) };
  if (!isExpression(value)) return { kind: 'literal', value };
  const text = value.slice(1, -1);
  return { kind: 'expression', text, ast: parseExpression(text) };
}

type TokenType =
  'LeftParenthesis' | 'RightParenthesis' | 'LeftSquareBracket' | 'RightSquareBracket' | 'Comma' | 'Dot' | 'Identifier' | 'String' | 'Integer' | 'EndOfData';

interface Token {
  type: TokenType;
  text: string;
  value?: string | number;
  pos: number;
}

const PUNCTUATION: Record<string, TokenType> = {
  '(': 'LeftParenthesis',
  ')': 'RightParenthesis',
  '[': 'LeftSquareBracket',
  ']': 'RightSquareBracket',
  ',': 'Comma',
  '.': 'Dot',
};

const invalid = (text: string, detail: string) => new ExpressionError(`The template language expression '${text}' is not valid: ${detail}`);

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const punctuation = PUNCTUATION[c];
    if (punctuation !== undefined) {
      tokens.push({ type: punctuation, text: c, pos: i });
      i++;
      continue;
    }
    if (c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) {
          throw invalid(text, `the string literal starting at position '${start}' is not terminated.`);
        }
        const d = text.charAt(i);
        if (d === "'") {
          if (text.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ type: 'String', text: text.slice(start, i), value, pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text.charAt(i + 1)))) {
      const start = i;
      i++;
      while (i < text.length && /[0-9]/.test(text.charAt(i))) i++;
      const raw = text.slice(start, i);
      const value = Number(raw);
      if (!Number.isSafeInteger(value)) {
        throw invalid(text, `the integer literal '${raw}' at position '${start}' is out of range.`);
      }
      tokens.push({ type: 'Integer', text: raw, value, pos: start });
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_$]/.test(text.charAt(i))) i++;
      tokens.push({ type: 'Identifier', text: text.slice(start, i), pos: start });
      continue;
    }
    throw invalid(text, `the string character '${c}' at position '${i}' is not expected.`);
  }
  tokens.push({ type: 'EndOfData', text: '', pos: text.length });
  return tokens;
}

/** Parses the text between the outer brackets of an expression. */
export function parseExpression(text: string): Expr {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token => tokens[at] as Token;
  const next = (): Token => tokens[at++] as Token;
  const fail = (expected: TokenType | string, actual: Token): never => {
    throw new ExpressionError(`Unable to parse language expression '${text}': expected token '${expected}' and actual '${actual.type}'.`);
  };
  const expect = (type: TokenType): Token => {
    const token = next();
    if (token.type !== type) fail(type, token);
    return token;
  };

  const primary = (): Expr => {
    const token = next();
    switch (token.type) {
      case 'String':
        return { kind: 'string', value: token.value as string, pos: token.pos };
      case 'Integer':
        return { kind: 'integer', value: token.value as number, pos: token.pos };
      case 'LeftParenthesis': {
        const inner = expression();
        expect('RightParenthesis');
        return inner;
      }
      case 'Identifier': {
        if (peek().type === 'LeftParenthesis') {
          next();
          const args: Expr[] = [];
          if (peek().type !== 'RightParenthesis') {
            args.push(expression());
            while (peek().type === 'Comma') {
              next();
              args.push(expression());
            }
          }
          expect('RightParenthesis');
          return { kind: 'call', name: token.text, args, pos: token.pos };
        }
        // Bare `true`/`false`/`null` are accepted as literals (ARM itself only knows the functions `true()`...).
        const lower = token.text.toLowerCase();
        if (lower === 'true' || lower === 'false') return { kind: 'boolean', value: lower === 'true', pos: token.pos };
        if (lower === 'null') return { kind: 'null', pos: token.pos };
        return fail('LeftParenthesis', peek());
      }
      default:
        return fail('Identifier', token);
    }
  };

  const expression = (): Expr => {
    let expr = primary();
    for (;;) {
      const token = peek();
      if (token.type === 'Dot') {
        next();
        const name = expect('Identifier');
        expr = { kind: 'property', target: expr, name: name.text, pos: name.pos };
      } else if (token.type === 'LeftSquareBracket') {
        next();
        const index = expression();
        expect('RightSquareBracket');
        expr = { kind: 'index', target: expr, index, pos: token.pos };
      } else {
        return expr;
      }
    }
  };

  if (peek().type === 'EndOfData') {
    throw invalid(text, 'the expression is empty.');
  }
  const result = expression();
  expect('EndOfData');
  return result;
}

/** Visits every function call in an expression tree (used to find deploy-time functions statically). */
export function walkCalls(expr: Expr, visit: (call: Extract<Expr, { kind: 'call' }>) => void): void {
  switch (expr.kind) {
    case 'call':
      visit(expr);
      expr.args.forEach((a) => walkCalls(a, visit));
      return;
    case 'property':
      walkCalls(expr.target, visit);
      return;
    case 'index':
      walkCalls(expr.target, visit);
      walkCalls(expr.index, visit);
      return;
    default:
      return;
  }
}
