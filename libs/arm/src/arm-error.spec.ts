import { ArmError, ArmErrorDetail } from './arm-error';

const detail = (overrides: Partial<ArmErrorDetail> = {}): ArmErrorDetail => ({
  code: 'InvalidParameter',
  message: 'count must not be less than 1',
  target: 'properties.agentPoolProfiles[0].count',
  ...overrides,
});

describe('ArmError', () => {
  describe('toBody', () => {
    it('wraps code and message in an error object (R4.1)', () => {
      const sut = ArmError.badRequest('BadRequest', 'Something is wrong.');

      expect(sut.toBody()).toEqual({ error: { code: 'BadRequest', message: 'Something is wrong.' } });
    });

    it('leaves target and details out of the wire JSON when they are not set', () => {
      const sut = ArmError.conflict('Conflict', 'Busy.');

      expect(JSON.stringify(sut.toBody())).toBe('{"error":{"code":"Conflict","message":"Busy."}}');
    });

    it('includes the target when one is given', () => {
      const sut = ArmError.invalidParameter('properties.dnsPrefix', 'dnsPrefix is invalid.');

      expect(sut.toBody()).toEqual({
        error: { code: 'InvalidParameter', message: 'dnsPrefix is invalid.', target: 'properties.dnsPrefix' },
      });
    });

    it('includes non-empty details', () => {
      const details = [detail(), detail({ target: 'properties.agentPoolProfiles[1].count' })];
      const sut = ArmError.badRequest('InvalidParameter', 'Two problems.', 'properties', details);

      expect(sut.toBody().error.details).toEqual(details);
    });

    it('leaves an empty details array out', () => {
      const sut = ArmError.badRequest('InvalidParameter', 'Nothing specific.', undefined, []);

      expect(sut.toBody().error).not.toHaveProperty('details');
    });

    it('puts the same detail in toBody as toDetail returns', () => {
      const sut = ArmError.badRequest('InvalidParameter', 'Bad.', 'tags');

      expect(sut.toBody()).toEqual({ error: sut.toDetail() });
    });
  });

  describe('factories', () => {
    it.each([
      ['badRequest', ArmError.badRequest('BadRequest', 'm'), 400, 'BadRequest'],
      ['invalidParameter', ArmError.invalidParameter('t', 'm'), 400, 'InvalidParameter'],
      ['unauthorized', ArmError.unauthorized('InvalidAuthenticationToken', 'm'), 401, 'InvalidAuthenticationToken'],
      ['notFound', ArmError.notFound('ResourceNotFound', 'm'), 404, 'ResourceNotFound'],
      ['conflict', ArmError.conflict('OperationNotAllowed', 'm'), 409, 'OperationNotAllowed'],
      ['preconditionFailed', ArmError.preconditionFailed('m'), 412, 'PreconditionFailed'],
      ['internal', ArmError.internal(), 500, 'InternalServerError'],
    ])('%s carries HTTP %i and code %s', (_factory, sut, status, code) => {
      expect(sut.status).toBe(status);
      expect(sut.code).toBe(code);
    });

    it('gives InternalServerError a default message for people', () => {
      const sut = ArmError.internal();

      expect(sut.message.length).toBeGreaterThan(0);
    });

    it('names the resource group in ResourceGroupNotFound with the wire message', () => {
      const sut = ArmError.resourceGroupNotFound('MyRG');

      expect(sut.status).toBe(404);
      expect(sut.toBody()).toEqual({
        error: { code: 'ResourceGroupNotFound', message: "Resource group 'MyRG' could not be found." },
      });
    });

    it('names type, name and resource group in ResourceNotFound with the aka.ms suffix', () => {
      const sut = ArmError.resourceNotFound('Microsoft.ContainerService/managedClusters', 'Foo', 'rG1');

      expect(sut.status).toBe(404);
      expect(sut.code).toBe('ResourceNotFound');
      expect(sut.message).toBe(
        "The Resource 'Microsoft.ContainerService/managedClusters/Foo' under resource group 'rG1' was not found. " +
          'For more details please go to https://aka.ms/ARMResourceNotFoundFix',
      );
    });

    it('names the child by its name path when the type has a child segment', () => {
      const sut = ArmError.resourceNotFound('Microsoft.ContainerService/managedClusters/agentPools', 'Foo/pool1', 'rg');

      expect(sut.message).toContain("'Microsoft.ContainerService/managedClusters/agentPools/Foo/pool1'");
    });

    it('names the subscription in SubscriptionNotFound', () => {
      const sut = ArmError.subscriptionNotFound('00000000-0000-0000-0000-000000000001');

      expect(sut.status).toBe(404);
      expect(sut.code).toBe('SubscriptionNotFound');
      expect(sut.message).toContain('00000000-0000-0000-0000-000000000001');
    });
  });

  it('is an Error named ArmError so stack traces and instanceof work', () => {
    const sut = ArmError.conflict('Conflict', 'Busy.');

    expect(sut).toBeInstanceOf(Error);
    expect(sut.name).toBe('ArmError');
    expect(sut.message).toBe('Busy.');
  });

  it('keeps the cause it was given', () => {
    const cause = new Error('docker said no');
    const sut = new ArmError(500, 'InternalServerError', 'Failed.', undefined, undefined, { cause });

    expect(sut.cause).toBe(cause);
  });
});
