import { validationErrorsToArmError } from '@cerulean/arm';
import { ValidationPipe } from '@nestjs/common';

/**
 * The body validation every ARM route uses (the global pipe); template deployments run resource bodies through the
 * same pipe, so a resource in a template is checked exactly like a PUT of it.
 */
export function armValidationPipe(): ValidationPipe {
  // Unknown properties are kept (ARM keeps spec fields it does not act on), so no whitelist.
  return new ValidationPipe({
    transform: true,
    whitelist: false,
    forbidUnknownValues: false,
    validateCustomDecorators: false,
    exceptionFactory: (errors) => validationErrorsToArmError(errors),
  });
}
