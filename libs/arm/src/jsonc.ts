/**
 * JSON with comments, trailing commas and unquoted property names: what `az deployment group ...` sends, which splices
 * the template file's text in as it is after an unquoted key (`{"properties": {...}, template:{...file...}}`).
 * Outside strings, comments and trailing commas are removed and an identifier followed by `:` is quoted; then the text
 * goes to JSON.parse (its errors are kept).
 */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i += 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      out += ' ';
    } else if (c === ',') {
      let j = i + 1;
      // A comma followed (after blanks and comments) by a closing bracket is a trailing comma.
      for (;;) {
        while (j < n && /\s/.test(text[j] as string)) j += 1;
        if (text[j] === '/' && text[j + 1] === '/') while (j < n && text[j] !== '\n') j += 1;
        else if (text[j] === '/' && text[j + 1] === '*') j = text.indexOf('*/', j + 2) < 0 ? n : text.indexOf('*/', j + 2) + 2;
        else break;
      }
      if (text[j] !== '}' && text[j] !== ']') out += c;
      i += 1;
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(text[j] as string)) j += 1;
      const word = text.slice(i, j);
      let k = j;
      while (k < n && /\s/.test(text[k] as string)) k += 1;
      // A name before ':' is a property name; anything else (true, false, null, junk) is left to JSON.parse.
      out += text[k] === ':' ? JSON.stringify(word) : word;
      i = j;
    } else {
      out += c;
      i += 1;
    }
  }
  return JSON.parse(out);
}

const AZ_SPLICE = ', template:';

/**
 * A template deployment's body as az sends it. az builds it as `json.dumps(body)[:-2] + ", template:" + file + "}}"`,
 * which assumes the JSON ends with `}}` (properties last). At subscription scope its SDK puts `location` last, so
 * the cut lands inside that string: `{"properties": {...}, "location": "eastus, template:{...file...}}`.
 * That body is read as az meant it (the template back under `properties`); anything else is JSONC as above.
 */
export function parseDeploymentBody(text: string): unknown {
  try {
    return parseJsonc(text);
  } catch (err) {
    const spliced = unspliceAzTemplate(text);
    if (spliced === undefined) throw err;
    return spliced;
  }
}

function unspliceAzTemplate(text: string): unknown {
  const trimmed = text.trimEnd();
  if (!trimmed.endsWith('}}')) return undefined;
  for (let at = text.indexOf(AZ_SPLICE); at >= 0; at = text.indexOf(AZ_SPLICE, at + 1)) {
    let head: unknown;
    try {
      head = JSON.parse(`${text.slice(0, at)}"}`); // what az cut off: the closing quote and brace
    } catch {
      continue;
    }
    const properties = head !== null && typeof head === 'object' ? (head as Record<string, unknown>).properties : undefined;
    if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return undefined;
    // Between the splice and the "}}" az appended (meant to close properties and the body): the file as it is.
    const template = parseJsonc(trimmed.slice(at + AZ_SPLICE.length, -2));
    return { ...(head as Record<string, unknown>), properties: { ...(properties as Record<string, unknown>), template } };
  }
  return undefined;
}

/** Routes whose bodies may be JSONC: template deployments. */
export const acceptsJsonc = (url: string): boolean => /\/providers\/microsoft\.resources\/deployments(\/|\?|$)/i.test(url);
