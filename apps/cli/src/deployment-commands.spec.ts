import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from './connection';
import { collectParameters } from './deployment-commands';

const declared = { count: { type: 'int' }, enabled: { type: 'Bool' }, tags: { type: 'object' }, name: { type: 'string' } };

describe('collectParameters', () => {
  it('reads name=value as the template declares the parameter', () => {
    expect(collectParameters(['count=3', 'enabled=TRUE', 'tags={"a":"b"}', 'name=x=y'], declared)).toEqual({
      count: { value: 3 },
      enabled: { value: true },
      tags: { value: { a: 'b' } },
      name: { value: 'x=y' },
    });
  });

  it('reads a parameters file (az format, comments allowed) and lets later values win', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cerulean-cli-'));
    const file = join(dir, 'p.json');
    writeFileSync(file, '{ "$schema": "x", "contentVersion": "1.0.0.0", "parameters": { "count": { "value": 1 }, // one\n "name": { "value": "n" }, } }');

    expect(collectParameters([file, 'count=2'], declared)).toEqual({ count: { value: 2 }, name: { value: 'n' } });
    expect(collectParameters([`@${file}`], declared)).toEqual({ count: { value: 1 }, name: { value: 'n' } });
  });

  it('refuses a value that is not of the declared type with a usage error', () => {
    const sut = () => collectParameters(['count=three'], declared);

    expect(sut).toThrow(CliError);
    expect(sut).toThrow("Parameter 'count' is an int");
  });
});
