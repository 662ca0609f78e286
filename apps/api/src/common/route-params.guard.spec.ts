import { ArmError } from '@cerulean/arm';
import type { ExecutionContext } from '@nestjs/common';
import { RouteParamsGuard } from './route-params.guard';

const contextWith = (params: Record<string, string> | undefined): ExecutionContext =>
  ({ switchToHttp: () => ({ getRequest: () => ({ params }) }) }) as unknown as ExecutionContext;

describe('RouteParamsGuard', () => {
  const sut = new RouteParamsGuard();

  it.each(['s2rsg9r', '0', '{ &>d2u', 'ı$2', '3f2e1d0c-9b8a-4765-8432-10fedcba9876\u0000', ''])(
    "refuses the subscription id '%s' as 400 InvalidSubscriptionId before any handler reads it",
    (subscriptionId) => {
      let thrown: unknown;
      try {
        sut.canActivate(contextWith({ subscriptionId }));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ArmError);
      expect((thrown as ArmError).status).toBe(400);
      expect((thrown as ArmError).code).toBe('InvalidSubscriptionId');
    },
  );

  it('lets a well-formed subscription id (any casing) and routes without one through', () => {
    expect(sut.canActivate(contextWith({ subscriptionId: '3F2E1D0C-9b8a-4765-8432-10fedcba9876', resourceGroupName: 'rg' }))).toBe(true);
    expect(sut.canActivate(contextWith({ tenant: 'common' }))).toBe(true);
    expect(sut.canActivate(contextWith(undefined))).toBe(true);
  });
});
