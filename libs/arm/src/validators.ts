import { Type } from 'class-transformer';
import { IsArray, IsObject, ValidateNested } from 'class-validator';

type Ctor = new (...args: never[]) => object;

const all =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const d of decorators) d(target, key);
  };

/**
 * A property holding one object validated as `type`. class-validator's `@ValidateNested()` alone accepts an
 * array there (it validates the array's items instead, and `[]` or `[[]]` has nothing to fail), so a
 * handler that reads the property as an object would get an array.
 */
export const NestedObject = (type: () => Ctor): PropertyDecorator => all(IsObject(), ValidateNested(), Type(type));

/**
 * A property holding an array of objects, each validated as `type`. Without the per-item object check,
 * `[[]]` or `[null]`-like items pass `@ValidateNested({ each: true })` and reach the handler.
 */
export const NestedObjects = (type: () => Ctor): PropertyDecorator => all(IsArray(), IsObject({ each: true }), ValidateNested({ each: true }), Type(type));
