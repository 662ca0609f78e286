import { ArmError } from './arm-error';

const FORM = /^\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|rc|privatepreview))?$/;

/**
 * AKS ships a stable `YYYY-MM-01` and a `YYYY-MM-02-preview` most months, and keeps serving old versions (ARM
 * templates pin them for years); accept every monthly one from 2019-02 on, plus the irregular early ones.
 */
function monthlyAksVersions(from: [number, number], to: [number, number]): string[] {
  const out: string[] = [];
  for (let y = from[0], m = from[1]; y < to[0] || (y === to[0] && m <= to[1]); m === 12 ? ((y += 1), (m = 1)) : (m += 1)) {
    const mm = String(m).padStart(2, '0');
    out.push(`${y}-${mm}-01`, `${y}-${mm}-02-preview`);
  }
  return out;
}

/** An allow-list of api-versions for one family of resource types, and how ARM rejects others (R2.3). */
export interface ApiVersionSet {
  readonly name: string;
  readonly versions: ReadonlySet<string>;
  /** `NoRegisteredProviderFound` for resource providers, `InvalidApiVersionParameter` for Microsoft.Resources. */
  readonly rejection: 'NoRegisteredProviderFound' | 'InvalidApiVersionParameter';
}

export const ApiVersions = {
  containerService: {
    name: 'Microsoft.ContainerService',
    versions: new Set(['2017-08-31', '2018-03-31', '2018-08-01-preview', '2021-11-01-preview', ...monthlyAksVersions([2019, 2], [2026, 10])]),
    rejection: 'NoRegisteredProviderFound',
  },
  // Versions of Microsoft.Resources (resource groups, providers, subscriptions, tenants, locations)
  // that the Azure SDKs, az and Terraform send.
  resources: {
    name: 'Microsoft.Resources',
    versions: new Set([
      '2015-01-01',
      '2015-11-01',
      '2016-02-01',
      '2016-06-01',
      '2016-09-01',
      '2017-05-10',
      '2018-02-01',
      '2018-05-01',
      '2019-03-01',
      '2019-05-01',
      '2019-05-10',
      '2019-06-01',
      '2019-07-01',
      '2019-08-01',
      '2019-10-01',
      '2019-11-01',
      '2020-01-01',
      '2020-06-01',
      '2020-08-01',
      '2020-10-01',
      '2021-01-01',
      '2021-04-01',
      '2022-01-01',
      '2022-09-01',
      '2022-12-01',
      '2023-07-01',
      '2024-03-01',
      '2024-07-01',
      '2024-08-01',
      '2024-11-01',
      '2025-01-01',
      '2025-03-01',
      '2025-04-01',
      '2026-06-01',
      '2026-09-01',
    ]),
    rejection: 'InvalidApiVersionParameter',
  },
  // Microsoft.Authorization (role assignments and definitions) as the SDKs, az and Terraform send it.
  authorization: {
    name: 'Microsoft.Authorization',
    versions: new Set([
      '2015-07-01',
      '2017-05-01',
      '2018-01-01-preview',
      '2018-07-01',
      '2018-09-01-preview',
      '2020-04-01-preview',
      '2020-08-01-preview',
      '2020-10-01-preview',
      '2021-03-01-preview',
      '2022-01-01-preview',
      '2022-04-01',
      '2022-05-01-preview',
      '2023-07-01-preview',
    ]),
    rejection: 'NoRegisteredProviderFound',
  },
  // Microsoft.Insights event types (the activity log).
  insights: {
    name: 'Microsoft.Insights',
    versions: new Set(['2014-04-01', '2015-04-01', '2017-03-01-preview']),
    rejection: 'NoRegisteredProviderFound',
  },
} satisfies Record<string, ApiVersionSet>;

export interface ApiVersionContext {
  /** `Namespace/type` named in the NoRegisteredProviderFound message. */
  resourceType: string;
  location?: string;
  supportedLocations?: string[];
}

/** R2.1–R2.3: returns the version when it is present, well-formed and supported; throws the ARM error otherwise. */
export function checkApiVersion(set: ApiVersionSet, value: unknown, ctx: ApiVersionContext): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw ArmError.badRequest('MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  if (!FORM.test(value)) {
    throw ArmError.badRequest(
      'InvalidApiVersionParameter',
      `The api-version '${value}' is invalid. The supported versions are '${[...set.versions].reverse().join(',')}'.`,
    );
  }
  if (set.versions.has(value.toLowerCase())) return value;
  const supported = [...set.versions].reverse().join(', ');
  if (set.rejection === 'InvalidApiVersionParameter') {
    throw ArmError.badRequest(
      'InvalidApiVersionParameter',
      `The api-version '${value}' is invalid. The supported versions are '${[...set.versions].reverse().join(',')}'.`,
    );
  }
  throw ArmError.badRequest(
    'NoRegisteredProviderFound',
    `No registered resource provider found for location '${ctx.location ?? ''}' and API version '${value}' for type '${ctx.resourceType.split('/').slice(1).join('/')}'. ` +
      `The supported api-versions are '${supported}'. The supported locations are '${(ctx.supportedLocations ?? []).join(', ')}'.`,
  );
}
