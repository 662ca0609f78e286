import { setTimeout as sleep } from 'node:timers/promises';
import { arm, ArmResponse, RES_API, rgPath, sub } from './platform';

/** Helpers of the template-deployment e2e suites (deployments, subscription deployments, golden templates, az, worker slots). */

export const DEP_API = 'api-version=2026-09-01';

export const headerOf = (r: ArmResponse, name: string): string => String(r.headers[name.toLowerCase()] ?? '');

/** `path` with the deployments api-version added to its query. */
export const dep = (path: string): string => `${path}${path.includes('?') ? '&' : '?'}${DEP_API}`;

// The wire shapes the suites read (the spec's, with only the fields they check).
export interface ArmErrorWire {
  error: { code: string; message: string; target?: string; details?: { code: string; message: string; target?: string }[] };
}

export interface DeploymentWire {
  id: string;
  name: string;
  location?: string;
  properties: {
    provisioningState: string;
    mode: string;
    parameters: Record<string, { value?: unknown; type?: string }>;
    outputs?: Record<string, { type: string; value?: unknown }>;
    outputResources: { id: string }[];
    error?: ArmErrorWire['error'];
  };
}

export interface DeploymentOperationWire {
  id: string;
  operationId: string;
  properties: {
    provisioningOperation: string;
    provisioningState: string;
    timestamp: string;
    duration: string;
    statusCode?: string;
    serviceRequestId?: string;
    statusMessage?: { error: { code: string } };
    targetResource: { id: string; resourceType: string; resourceName: string };
  };
}

export interface DeltaWire {
  path: string;
  propertyChangeType: string;
  before?: unknown;
  after?: unknown;
  children?: DeltaWire[];
}

export interface WhatIfChangeWire {
  resourceId: string;
  changeType: string;
  delta?: DeltaWire[];
}

export interface WhatIfWire {
  status: string;
  properties: { changes: WhatIfChangeWire[] };
  error?: ArmErrorWire['error'];
}

/** A deployment PUT / validate / whatIf body. */
export const deploymentBody = (template: unknown, parameters: unknown = {}, mode = 'Incremental') => ({ properties: { mode, template, parameters } });

/** A subscription-scope deployment's path (`/subscriptions/{s}/providers/Microsoft.Resources/deployments/{name}`). */
export const subscriptionDeploymentPath = (name: string): string => `/subscriptions/${sub()}/providers/Microsoft.Resources/deployments/${name}`;

/** A subscription-scope deployment body: it needs a location of its own (null: none, to test the refusal). */
export const subscriptionDeploymentBody = (template: unknown, parameters: unknown = {}, location: string | null = 'eastus') => ({
  ...(location === null ? {} : { location }),
  properties: { mode: 'Incremental', template, parameters },
});

export async function createGroup(name: string, location = 'eastus'): Promise<void> {
  const r = await arm('PUT', `${rgPath(name)}?${RES_API}`, { body: { location } });
  if (r.status !== 200 && r.status !== 201) throw new Error(`creating resource group ${name} answered ${r.status}: ${r.text}`);
}

/** Deletes a group and waits (up to `timeoutMs`) until its result URL no longer answers 202. */
export async function deleteGroup(name: string, timeoutMs = 60_000): Promise<void> {
  const r = await arm('DELETE', `${rgPath(name)}?${RES_API}`);
  if (r.status !== 202) return;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const poll = await arm('GET', headerOf(r, 'location'));
    if (poll.status !== 202) return;
    await sleep(200);
  }
}

/** Polls a deployment's Azure-AsyncOperation URL until it ends; its final status. */
export async function waitForDeployment(statusUrl: string, timeoutMs = 150_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await arm<{ status: string }>('GET', statusUrl);
    if (r.status !== 200) throw new Error(`deployment status URL answered ${r.status}: ${r.text}`);
    if (['Succeeded', 'Failed', 'Canceled'].includes(r.body.status)) return r.body.status;
    if (Date.now() > deadline) throw new Error(`deployment still ${r.body.status}`);
    await sleep(200);
  }
}

/**
 * POST whatIf, which answers 202 + Location with a whole-seconds Retry-After (final-state-via: location), then the
 * Location's answer once it is no longer 202: the WhatIfOperationResult.
 */
export async function whatIfResult<T>(whatIfUrl: string, payload: unknown, timeoutMs = 60_000): Promise<ArmResponse<T>> {
  const accepted = await arm('POST', whatIfUrl, { body: payload });
  if (accepted.status !== 202) throw new Error(`whatIf answered ${accepted.status}: ${accepted.text}`);
  if (!/^\d+$/.test(headerOf(accepted, 'retry-after'))) throw new Error(`whatIf answered Retry-After '${headerOf(accepted, 'retry-after')}'`);
  const location = headerOf(accepted, 'location');
  if (!location) throw new Error('whatIf answered 202 without a Location header');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await arm<T>('GET', location);
    if (result.status !== 202) return result;
    if (Date.now() > deadline) throw new Error(`whatIf result still pending after ${timeoutMs} ms`);
    await sleep(100);
  }
}
