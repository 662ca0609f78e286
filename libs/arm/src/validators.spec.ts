import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsOptional, IsString, validateSync } from 'class-validator';
import { NestedObject, NestedObjects } from './validators';

class Item {
  @IsOptional() @IsString() name?: string;
}

class Holder {
  @IsOptional() @NestedObject(() => Item) one?: Item;
  @IsOptional() @NestedObjects(() => Item) many?: Item[];
}

const failures = (plain: unknown): string[] =>
  validateSync(plainToInstance(Holder, plain) as object).flatMap((e) => [
    ...Object.keys(e.constraints ?? {}).map((c) => `${e.property}:${c}`),
    ...(e.children ?? []).flatMap((c) => Object.keys(c.constraints ?? {}).map((k) => `${e.property}[${c.property}]:${k}`)),
  ]);

describe('NestedObject / NestedObjects', () => {
  it.each([[[]], [[[]]], [[{ name: 'a' }]], ['x'], [1]])('refuse %j where one object is declared', (one) => {
    expect(failures({ one })).toContain('one:isObject');
  });

  it.each([[[[]]], [[null]], [[1, 'x']], [[{ name: 'a' }, []]]])('refuse the items of %j that are not objects', (many) => {
    expect(failures({ many }).some((f) => f.startsWith('many'))).toBe(true);
  });

  it('refuses an object where the array is declared', () => {
    expect(failures({ many: { name: 'a' } })).toContain('many:isArray');
  });

  it('validate the nested objects as their class', () => {
    expect(failures({ one: { name: 1 } })).toEqual(['one[name]:isString']);
    const nested = validateSync(plainToInstance(Holder, { many: [{ name: 'a' }, { name: 2 }] }) as object);
    expect(nested[0].children?.[0]).toMatchObject({
      property: '1',
      children: [expect.objectContaining({ property: 'name', constraints: { isString: expect.any(String) } })],
    });
    expect(failures({ one: { name: 'a' }, many: [{ name: 'b' }, {}] })).toEqual([]);
    expect(failures({})).toEqual([]);
  });
});
