import { parseBasicCredentials } from './authority';

const basic = (raw: string) => `Basic ${Buffer.from(raw, 'utf8').toString('base64')}`;

describe('client_secret_basic credentials', () => {
  const sut = parseBasicCredentials;

  it('decodes base64 of the form-encoded client id and secret (the secret may hold colons)', () => {
    expect(sut(basic('app-1:s3cret'))).toEqual({ clientId: 'app-1', secret: 's3cret' });
    expect(sut(basic('app-1:a%3Ab%2Bc+d:e'))).toEqual({ clientId: 'app-1', secret: 'a:b+c d:e' });
    expect(sut(`basic   ${Buffer.from('x:y').toString('base64')}  `)).toEqual({ clientId: 'x', secret: 'y' });
    expect(sut(basic('app-1:'))).toEqual({ clientId: 'app-1', secret: '' });
  });

  it('is undefined without a Basic header', () => {
    expect(sut(undefined)).toBeUndefined();
    expect(sut('')).toBeUndefined();
    expect(sut('Bearer abc')).toBeUndefined();
    expect(sut('Basicx abc')).toBeUndefined();
  });

  it('calls anything else malformed, never throws', () => {
    const cases = [
      basic('%zz:%zz'),
      basic('app:%E0%A4%A'),
      basic('%:x'),
      basic('no-colon'),
      basic(':secret'),
      'Basic',
      'Basic ',
      'Basic !!!!',
      'Basic a',
      'Basic YQ=Y',
      'Basic YWJj ZGVm',
      `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`,
    ];
    for (const header of cases) {
      const result = sut(header);
      expect({ header, malformed: result !== undefined && 'malformed' in result }).toEqual({ header, malformed: true });
    }
  });

  it('survives random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (i % 40) }, () => Math.floor(Math.random() * 256)));
      const header = `Basic ${bytes.toString(i % 2 ? 'base64' : 'latin1')}`;
      expect(() => sut(header)).not.toThrow();
    }
  });
});
