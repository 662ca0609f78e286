import { parsePort } from './port-forward';

describe('port-forward port header', () => {
  it('takes a decimal port from 1 to 65535, as upstream parses it', () => {
    expect(['1', '8080', '65535'].map(parsePort)).toEqual([1, 8080, 65535]);
    expect([undefined, '', '0', '65536', '-1', '80a', ' 80', '0x50', '123456'].map(parsePort)).toEqual(Array.from({ length: 9 }, () => undefined));
  });
});
