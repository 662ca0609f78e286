import { checkStringLength } from '../limits';
import { ExpressionError } from '../errors';
import { Json, toCompactJson, toDotnetString } from '../values';

// .NET composite formatting (String.Format with the invariant culture), the part ARM's format() relies on.
// Supported numeric specifiers: (none), G, D[n], N[n], F[n], X/x[n], P[n], and custom patterns made of 0 # , .
// Anything else is rejected rather than guessed (see README).

const formatError = () => new ExpressionError("Unable to evaluate template language function 'format': Input string was not in a correct format.");

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function fixed(value: number, decimals: number, group: boolean): string {
  const negative = value < 0;
  const [whole, fraction] = Math.abs(value).toFixed(decimals).split('.') as [string, string | undefined];
  const body = (group ? groupThousands(whole) : whole) + (fraction !== undefined ? `.${fraction}` : '');
  return negative && /[1-9]/.test(body) ? `-${body}` : body;
}

function custom(value: number, pattern: string): string {
  if (!/^[0#,.]+$/.test(pattern)) throw unsupported(pattern);
  const [intPart, fracPart = ''] = pattern.split('.') as [string, string | undefined];
  const group = intPart.includes(',');
  const minInt = (intPart.match(/0/g) ?? []).length;
  const minFrac = (fracPart.match(/0/g) ?? []).length;
  const maxFrac = fracPart.replace(/,/g, '').length;
  let text = Math.abs(value).toFixed(maxFrac);
  let [whole, fraction = ''] = text.split('.') as [string, string | undefined];
  while (fraction.length > minFrac && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  if (whole === '0' && minInt === 0) whole = '';
  whole = whole.padStart(minInt, '0');
  if (group) whole = groupThousands(whole);
  text = whole + (fraction.length > 0 ? `.${fraction}` : '');
  return value < 0 && /[1-9]/.test(text) ? `-${text}` : text;
}

const unsupported = (spec: string) =>
  new ExpressionError(`Unable to evaluate template language function 'format': the format specifier '${spec}' is not supported.`);

function formatNumber(value: number, spec: string): string {
  if (spec === '' || /^[Gg]\d*$/.test(spec) || /^[Rr]$/.test(spec)) return String(value);
  const m = /^([A-Za-z])(\d{0,2})$/.exec(spec);
  if (m === null) return custom(value, spec);
  const letter = m[1] as string;
  const precision = m[2] === '' ? undefined : Number(m[2]);
  switch (letter) {
    case 'D':
    case 'd': {
      if (!Number.isInteger(value)) throw formatError();
      const digits = String(Math.abs(value)).padStart(precision ?? 0, '0');
      return value < 0 ? `-${digits}` : digits;
    }
    case 'N':
    case 'n':
      return fixed(value, precision ?? 2, true);
    case 'F':
    case 'f':
      return fixed(value, precision ?? 2, false);
    case 'P':
    case 'p':
      return `${fixed(value * 100, precision ?? 2, true)} %`;
    case 'X':
    case 'x': {
      if (!Number.isInteger(value)) throw formatError();
      const hex = (BigInt.asUintN(64, BigInt(value)).toString(16) as string).padStart(precision ?? 0, '0');
      return letter === 'X' ? hex.toUpperCase() : hex;
    }
    default:
      throw unsupported(spec);
  }
}

/** How one argument prints: strings as is, booleans True/False, arrays/objects as single-quoted compact JSON. */
function formatValue(value: Json, spec: string): string {
  if (typeof value === 'number') return formatNumber(value, spec);
  if (Array.isArray(value) || (typeof value === 'object' && value !== null)) {
    return toCompactJson(value).replace(/"/g, "'");
  }
  return toDotnetString(value);
}

export function dotnetFormat(format: string, args: Json[]): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const c = format.charAt(i);
    if (c === '}') {
      if (format.charAt(i + 1) !== '}') throw formatError();
      out += '}';
      i += 2;
      continue;
    }
    if (c !== '{') {
      out += c;
      i++;
      continue;
    }
    if (format.charAt(i + 1) === '{') {
      out += '{';
      i += 2;
      continue;
    }
    const end = format.indexOf('}', i);
    if (end < 0) throw formatError();
    const m = /^\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::([^}]*))?$/.exec(format.slice(i + 1, end));
    if (m === null) throw formatError();
    const index = Number(m[1]);
    if (index >= args.length) {
      throw new ExpressionError(
        "Unable to evaluate template language function 'format': Index (zero based) must be greater than or equal to zero and less than the size of the argument list.",
      );
    }
    const alignment = m[2] === undefined ? 0 : Number(m[2]);
    checkStringLength(out.length + Math.abs(alignment));
    let text = formatValue(args[index] as Json, m[3] ?? '');
    if (alignment > 0) text = text.padStart(alignment);
    if (alignment < 0) text = text.padEnd(-alignment);
    checkStringLength(out.length + text.length);
    out += text;
    i = end + 1;
  }
  return out;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** .NET DateTime.ToString(format) for a UTC time (standard d, o, s, u and the usual custom specifiers). */
export function dotnetDateFormat(date: Date, format: string): string {
  const standard: Record<string, string> = {
    d: 'M/d/yyyy',
    D: 'dddd, MMMM d, yyyy',
    o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'",
    O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'",
    s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    t: 'h:mm tt',
    T: 'h:mm:ss tt',
  };
  const pattern = format.length === 1 ? standard[format] : format;
  if (pattern === undefined) throw new ExpressionError(`Unable to evaluate template language function 'utcNow': the format '${format}' is not supported.`);
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.charAt(i);
    if (c === "'" || c === '"') {
      const end = pattern.indexOf(c, i + 1);
      const stop = end < 0 ? pattern.length : end;
      out += pattern.slice(i + 1, stop);
      i = stop + 1;
      continue;
    }
    if (c === '\\') {
      out += pattern.charAt(i + 1);
      i += 2;
      continue;
    }
    let run = 1;
    while (pattern.charAt(i + run) === c) run++;
    const hours12 = date.getUTCHours() % 12 === 0 ? 12 : date.getUTCHours() % 12;
    const ms = date.getUTCMilliseconds();
    switch (c) {
      case 'y':
        out += run <= 2 ? pad(date.getUTCFullYear() % 100, run) : pad(date.getUTCFullYear(), run);
        break;
      case 'M':
        out +=
          run >= 4 ? (MONTHS[date.getUTCMonth()] as string) : run === 3 ? (MONTHS[date.getUTCMonth()] as string).slice(0, 3) : pad(date.getUTCMonth() + 1, run);
        break;
      case 'd':
        out += run >= 4 ? (DAYS[date.getUTCDay()] as string) : run === 3 ? (DAYS[date.getUTCDay()] as string).slice(0, 3) : pad(date.getUTCDate(), run);
        break;
      case 'H':
        out += pad(date.getUTCHours(), Math.min(run, 2));
        break;
      case 'h':
        out += pad(hours12, Math.min(run, 2));
        break;
      case 'm':
        out += pad(date.getUTCMinutes(), Math.min(run, 2));
        break;
      case 's':
        out += pad(date.getUTCSeconds(), Math.min(run, 2));
        break;
      case 'f':
      case 'F': {
        const digits = pad(ms, 3).padEnd(7, '0').slice(0, Math.min(run, 7));
        out += c === 'F' ? digits.replace(/0+$/, '') : digits;
        break;
      }
      case 't':
        out += (date.getUTCHours() < 12 ? 'AM' : 'PM').slice(0, run === 1 ? 1 : 2);
        break;
      case 'K':
        out += 'Z';
        break;
      case 'z':
        out += run === 1 ? '+0' : run === 2 ? '+00' : '+00:00';
        break;
      default:
        out += c.repeat(run);
    }
    i += run;
  }
  return out;
}
