import { OutputCapture } from './output-capture';

describe('OutputCapture', () => {
  it('keeps everything that fits', () => {
    const sut = new OutputCapture(16);
    sut.push(Buffer.from('hello '));
    sut.push(Buffer.from('world'));
    expect(sut.text()).toBe('hello world');
    expect(sut.droppedBytes).toBe(0);
  });

  it('keeps the first and last halves and marks the cut when the output is too long', () => {
    const sut = new OutputCapture(8);
    for (const c of ['abc', 'def', 'ghi', 'jkl', 'mno']) sut.push(Buffer.from(c));
    expect(sut.droppedBytes).toBe(15 - 8);
    expect(sut.text()).toBe('abcd\n[... 7 bytes of output cut ...]\nlmno');
  });

  it('stays bounded when a single chunk is larger than the limit', () => {
    const sut = new OutputCapture(10);
    sut.push(Buffer.alloc(1000, 'x'));
    sut.push(Buffer.from('END'));
    expect(sut.droppedBytes).toBe(993);
    expect(sut.text().endsWith('xxEND')).toBe(true);
    expect(sut.text().startsWith('xxxxx\n[...')).toBe(true);
  });
});
