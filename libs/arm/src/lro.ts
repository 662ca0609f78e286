import { absoluteUrl } from './public-url';

export interface LroUrls {
  azureAsyncOperation: string;
  location: string;
}

/**
 * R11.2: the subscription-level status and result URLs AKS hands out; they outlive the resource.
 * `Azure-AsyncOperation` → `.../locations/{loc}/operations/{id}`, `Location` → `.../operationresults/{id}`.
 */
export function lroUrls(base: string, subscription: string, namespace: string, location: string, operationId: string, apiVersion: string): LroUrls {
  const prefix = `/subscriptions/${subscription}/providers/${namespace}/locations/${location}`;
  return {
    azureAsyncOperation: absoluteUrl(base, `${prefix}/operations/${operationId}`, { 'api-version': apiVersion }),
    location: absoluteUrl(base, `${prefix}/operationresults/${operationId}`, { 'api-version': apiVersion }),
  };
}

/** Microsoft.Resources' own result URL (`/subscriptions/{sub}/operationresults/{id}`), as resource group deletes hand out. */
export function resourcesResultUrl(base: string, subscription: string, operationId: string, apiVersion: string): string {
  return absoluteUrl(base, `/subscriptions/${subscription}/operationresults/${operationId}`, { 'api-version': apiVersion });
}

/** R11.3: both headers, plus Retry-After in whole seconds (R11.7). */
export function lroHeaders(urls: LroUrls, retryAfterSeconds: number): Record<string, string> {
  return {
    'Azure-AsyncOperation': urls.azureAsyncOperation,
    Location: urls.location,
    'Retry-After': String(Number.isFinite(retryAfterSeconds) ? Math.max(1, Math.round(retryAfterSeconds)) : 1),
  };
}

/** ARM's operation status resource (common-types `OperationStatusResult`), R11.4. */
export interface OperationStatusBody {
  id: string;
  name: string;
  status: 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';
  startTime: string;
  endTime?: string;
  percentComplete?: number;
  error?: { code: string; message: string; target?: string; details?: unknown[] };
}
