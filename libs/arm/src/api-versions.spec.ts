import { ApiVersionContext, ApiVersions, checkApiVersion } from './api-versions';
import { catchArmError } from '../../../test-support/catch-arm-error';

const clusterContext = (overrides: Partial<ApiVersionContext> = {}): ApiVersionContext => ({
  resourceType: 'Microsoft.ContainerService/managedClusters',
  location: 'westus',
  supportedLocations: ['eastus', 'westus'],
  ...overrides,
});

const resourceGroupContext = (): ApiVersionContext => ({ resourceType: 'Microsoft.Resources/resourceGroups' });

describe('checkApiVersion', () => {
  const sut = checkApiVersion;

  describe('a missing api-version (R2.1)', () => {
    it.each([
      ['undefined', undefined],
      ['an empty string', ''],
    ])('is refused with MissingApiVersionParameter when it is %s', (_label, value) => {
      const error = catchArmError(() => sut(ApiVersions.containerService, value, clusterContext()));

      expect(error.status).toBe(400);
      expect(error.code).toBe('MissingApiVersionParameter');
    });

    it('uses the exact wire body clients match on', () => {
      const error = catchArmError(() => sut(ApiVersions.containerService, undefined, clusterContext()));

      expect(JSON.stringify(error.toBody())).toBe(
        '{"error":{"code":"MissingApiVersionParameter","message":"The api-version query parameter (?api-version=) is required for all requests."}}',
      );
    });

    it('is refused the same way for Microsoft.Resources', () => {
      const error = catchArmError(() => sut(ApiVersions.resources, undefined, resourceGroupContext()));

      expect(error.code).toBe('MissingApiVersionParameter');
    });
  });

  describe('a malformed api-version (R2.2)', () => {
    it.each(['2026-10', '20261001', '2026-10-01-foo', 'latest', '2026-10-01preview', ' 2026-10-01', '2026-10-01-'])(
      'refuses %p with 400 InvalidApiVersionParameter for AKS',
      (value) => {
        const error = catchArmError(() => sut(ApiVersions.containerService, value, clusterContext()));

        expect(error.status).toBe(400);
        expect(error.code).toBe('InvalidApiVersionParameter');
        expect(error.message).toContain(`'${value}'`);
      },
    );

    it('refuses a malformed version for Microsoft.Resources with InvalidApiVersionParameter', () => {
      const error = catchArmError(() => sut(ApiVersions.resources, 'v2', resourceGroupContext()));

      expect(error.status).toBe(400);
      expect(error.code).toBe('InvalidApiVersionParameter');
    });
  });

  describe('Microsoft.ContainerService (R2.3, R2.4)', () => {
    it.each(['2017-08-31', '2021-11-01-preview', '2022-05-01', '2024-01-01', '2026-03-02-preview', '2026-06-01', '2026-10-01'])(
      'accepts %s and returns it',
      (version) => {
        expect(sut(ApiVersions.containerService, version, clusterContext())).toBe(version);
      },
    );

    it.each(['2017-01-01', '2019-01-01', '2026-11-01'])('refuses the well-formed but unsupported %s with 400 NoRegisteredProviderFound', (version) => {
      const error = catchArmError(() => sut(ApiVersions.containerService, version, clusterContext()));

      expect(error.status).toBe(400);
      expect(error.code).toBe('NoRegisteredProviderFound');
    });

    it('names the location, version, type, supported versions and supported locations in the message', () => {
      const error = catchArmError(() => sut(ApiVersions.containerService, '2019-01-01', clusterContext()));

      expect(error.message).toMatch(
        /^No registered resource provider found for location 'westus' and API version '2019-01-01' for type 'managedClusters'\. The supported api-versions are '[^']+'\. The supported locations are 'eastus, westus'\.$/,
      );
      expect(error.message).toContain('2026-10-01');
      expect(error.message).toContain('2024-01-01');
    });

    it('names a child type by its path under the namespace', () => {
      const error = catchArmError(() =>
        sut(ApiVersions.containerService, '2026-11-01', clusterContext({ resourceType: 'Microsoft.ContainerService/managedClusters/agentPools' })),
      );

      expect(error.message).toContain("for type 'managedClusters/agentPools'");
    });

    it('refuses a preview of an unsupported month', () => {
      const error = catchArmError(() => sut(ApiVersions.containerService, '2026-11-02-preview', clusterContext()));

      expect(error.code).toBe('NoRegisteredProviderFound');
    });
  });

  describe('Microsoft.Resources (R2.3, R2.4)', () => {
    it.each(['2022-12-01', '2024-11-01', '2025-04-01', '2026-06-01', '2026-09-01'])('accepts %s and returns it', (version) => {
      expect(sut(ApiVersions.resources, version, resourceGroupContext())).toBe(version);
    });

    it('refuses an unsupported version with 400 InvalidApiVersionParameter, not NoRegisteredProviderFound', () => {
      const error = catchArmError(() => sut(ApiVersions.resources, '2023-01-01', resourceGroupContext()));

      expect(error.status).toBe(400);
      expect(error.code).toBe('InvalidApiVersionParameter');
    });

    it("uses ARM's message listing the supported versions separated by commas", () => {
      const error = catchArmError(() => sut(ApiVersions.resources, '2023-01-01', resourceGroupContext()));

      expect(error.message).toMatch(/^The api-version '2023-01-01' is invalid\. The supported versions are '[^' ]+'\.$/);
      const listed = /are '([^']+)'/.exec(error.message)?.[1]?.split(',') ?? [];
      expect(listed).toEqual(expect.arrayContaining(['2022-12-01', '2024-11-01', '2025-04-01']));
      expect(listed).not.toContain('2023-01-01');
    });
  });
});
