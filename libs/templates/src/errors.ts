import { ArmError } from '@cerulean/arm';

/**
 * A failure inside one template language expression (parse or evaluation). It carries ARM's inner message only;
 * template processing wraps it with the location (`The template resource 'x' is not valid: ...`).
 */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

const SEE_EXPRESSIONS = 'Please see https://aka.ms/arm-template-expressions for usage details.';
const SEE_PARAMETER_FILE = 'Please see https://aka.ms/arm-create-parameter-file for usage details.';

/** Where an error happened, as ARM names it: `The template resource 'x'`, `The template variable 'y'`... */
export type TemplateSection = 'resource' | 'variable' | 'parameter' | 'output';

/** The ARM error codes and messages template processing produces. All are deterministic 400s. */
export const TemplateErrors = {
  /** ARM wraps every static validation failure in this sentence (code InvalidTemplate). */
  validationFailed(inner: string, target?: string): ArmError {
    return ArmError.badRequest('InvalidTemplate', `Deployment template validation failed: '${inner}'.`, target);
  },

  inSection(section: TemplateSection, name: string, inner: string, target?: string): ArmError {
    return TemplateErrors.validationFailed(`The template ${section} '${name}' is not valid: ${inner}`, target);
  },

  /** Shape errors ARM reports while deserializing the request (Newtonsoft's wording). */
  invalidRequestContent(inner: string, target?: string): ArmError {
    return ArmError.badRequest('InvalidRequestContent', `The request content was invalid and could not be deserialized: '${inner}'.`, target);
  },

  /** Deploy-time expression failure for one resource (the second evaluation phase). */
  resourceExpressions(resourceId: string, inner: string): ArmError {
    return ArmError.badRequest('InvalidTemplate', `Unable to process template language expressions for resource '${resourceId}'. '${inner}'`, resourceId);
  },

  outputsFailed(names: string[], details: ArmError[]): ArmError {
    return new ArmError(
      400,
      'DeploymentOutputEvaluationFailed',
      `Unable to evaluate template outputs: '${names.join(', ')}'. Please see error details and deployment operations. Please see https://aka.ms/arm-common-errors for usage details.`,
      undefined,
      details.map((d) => d.toDetail()),
    );
  },

  parameterNotProvided(name: string): ArmError {
    return TemplateErrors.validationFailed(`The value for the template parameter '${name}' is not provided. ${SEE_PARAMETER_FILE}`, `parameters.${name}`);
  },

  unknownParameters(unknown: string[], supported: string[]): ArmError {
    return TemplateErrors.validationFailed(
      `The template parameters '${unknown.join(', ')}' in the parameters file are not valid; they are not present in the original template and can therefore not be provided at deployment time. The only supported parameters for this template are '${supported.join(', ')}'. Please see https://aka.ms/arm-pass-parameter-values for usage details.`,
      'parameters',
    );
  },

  parameterValue(name: string, detail: string): ArmError {
    return TemplateErrors.validationFailed(
      `The provided value for the template parameter '${name}' is not valid. ${detail} ${SEE_PARAMETER_FILE}`,
      `parameters.${name}`,
    );
  },
} as const;

/** Inner messages shared by the evaluator and the functions (ARM's wording where it is known). */
export const ExpressionMessages = {
  functionNotFound: (name: string) => `The template function '${name}' is not found. Please see https://aka.ms/arm-functions for usage details.`,
  notExpectedHere: (name: string) => `The template function '${name}' is not expected at this location. ${SEE_EXPRESSIONS}`,
  unableToEvaluate: (name: string, detail: string) => `Unable to evaluate template language function '${name}': ${detail} ${SEE_EXPRESSIONS}`,
  parameterNotFound: (name: string) => `The template parameter '${name}' is not found. Please see https://aka.ms/arm-template/#parameters for usage details.`,
  variableNotFound: (name: string) => `The template variable '${name}' is not found. Please see https://aka.ms/arm-template/#variables for usage details.`,
  lambdaVariableNotFound: (name: string) => `The template lambda variable '${name}' is not found. ${SEE_EXPRESSIONS}`,
} as const;
