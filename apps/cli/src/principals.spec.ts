import { parsePrincipalArgs, runPrincipalCommand, UsageError } from './principals';

describe('cerulean principal: arguments', () => {
  it('parses each command with its target and options', () => {
    expect(parsePrincipalArgs(['create', '--name', 'ci bot', '--endpoint=https://127.0.0.1:9443'])).toEqual({
      command: 'create',
      name: 'ci bot',
      target: undefined,
      options: { output: 'json', endpoint: 'https://127.0.0.1:9443' },
    });
    expect(parsePrincipalArgs(['list', '-o', 'table']).options.output).toBe('table');
    expect(parsePrincipalArgs(['rotate-secret', 'abc', '--data-dir', '/d'])).toMatchObject({
      command: 'rotate-secret',
      target: 'abc',
      options: { dataDir: '/d' },
    });
    expect(parsePrincipalArgs(['delete', 'x', '--tenant', 't', '--client-id', 'c', '--client-secret', 's']).options).toMatchObject({
      tenant: 't',
      clientId: 'c',
      clientSecret: 's',
    });
  });

  it('refuses what it cannot run, as a usage error', () => {
    const bad = [
      [],
      ['frobnicate'],
      ['create'],
      ['show'],
      ['show', 'a', 'b'],
      ['list', 'extra'],
      ['list', '--bogus'],
      ['list', '-o', 'xml'],
      ['list', '--endpoint'],
      ['list', '--client-id', 'c'],
    ];
    for (const args of bad) expect(() => parsePrincipalArgs(args)).toThrow(UsageError);
  });

  it('exits 2 with the usage on bad arguments, without any network call', async () => {
    let errText = '';
    const code = await runPrincipalCommand(
      ['show'],
      () => undefined,
      (s) => (errText += s),
    );
    expect(code).toBe(2);
    expect(errText).toContain('usage: cerulean principal');
  });
});
