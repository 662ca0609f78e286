import { createHash } from 'node:crypto';
import { ArmError, ResourceTypes } from '@cerulean/arm';
import { ResourceGroupEntity } from '@cerulean/domain';
import {
  declaredNestedTypes,
  DeploymentContext,
  isNestedDeploymentType,
  isResourceGroupType,
  Json,
  JsonObject,
  nestedDeployment,
  processTemplate,
  TemplateErrors,
  TemplatePlan,
} from '@cerulean/templates';
import { isHostedType, noRegisteredProvider } from '../hosted-resources/hosted-resources.service';

export type DeploymentMode = 'Incremental' | 'Complete';

/** The parts of a deployment request body (Deployment / DeploymentWhatIf) this endpoint acts on. */
export interface DeploymentRequest {
  template: JsonObject;
  parameters: Json | undefined;
  mode: DeploymentMode;
  location?: string;
  tags?: Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Shape checks of `{ properties: { template, parameters, mode } }`; links are not fetched from here. */
export function parseDeploymentRequest(body: unknown): DeploymentRequest {
  if (!isObject(body)) throw TemplateErrors.invalidRequestContent('The request body must be a JSON object.');
  const props = body.properties;
  if (!isObject(props)) throw TemplateErrors.invalidRequestContent("Required property 'properties' not found in JSON.", 'properties');
  if (props.templateLink !== undefined || props.parametersLink !== undefined) {
    throw ArmError.badRequest(
      'InvalidRequestContent',
      "Template and parameter links ('templateLink', 'parametersLink') are not supported by this endpoint: send them inline in 'properties.template' and 'properties.parameters'.",
      props.templateLink !== undefined ? 'properties.templateLink' : 'properties.parametersLink',
    );
  }
  if (!isObject(props.template)) {
    throw ArmError.badRequest(
      'InvalidRequestContent',
      "The deployment must have a template: 'properties.template' is required and must be an object.",
      'properties.template',
    );
  }
  if (props.parameters !== undefined && props.parameters !== null && !isObject(props.parameters)) {
    throw TemplateErrors.invalidRequestContent("'properties.parameters' must be an object.", 'properties.parameters');
  }
  const rawMode = props.mode ?? 'Incremental';
  const mode = typeof rawMode === 'string' ? (['Incremental', 'Complete'] as const).find((m) => m.toLowerCase() === rawMode.toLowerCase()) : undefined;
  if (!mode) {
    throw TemplateErrors.invalidRequestContent(
      `Error converting value ${JSON.stringify(rawMode)} to type 'DeploymentMode'. Allowed values: 'Incremental', 'Complete'.`,
      'properties.mode',
    );
  }
  const out: DeploymentRequest = { template: props.template as JsonObject, parameters: (props.parameters ?? undefined) as Json | undefined, mode };
  if (typeof body.location === 'string') out.location = body.location;
  if (isObject(body.tags)) out.tags = body.tags as Record<string, string>;
  return out;
}

export type WhatIfResultFormat = 'FullResourcePayloads' | 'ResourceIdOnly';

/** `properties.whatIfSettings.resultFormat` of a DeploymentWhatIf body (default FullResourcePayloads, case-insensitive). */
export function parseWhatIfResultFormat(body: unknown): WhatIfResultFormat {
  const settings = isObject(body) && isObject(body.properties) ? body.properties.whatIfSettings : undefined;
  const raw = isObject(settings) ? settings.resultFormat : undefined;
  if (raw === undefined || raw === null) return 'FullResourcePayloads';
  const format = typeof raw === 'string' ? (['FullResourcePayloads', 'ResourceIdOnly'] as const).find((f) => f.toLowerCase() === raw.toLowerCase()) : undefined;
  if (!format) {
    throw TemplateErrors.invalidRequestContent(
      `Error converting value ${JSON.stringify(raw)} to type 'WhatIfResultFormat'. Allowed values: 'ResourceIdOnly', 'FullResourcePayloads'.`,
      'properties.whatIfSettings.resultFormat',
    );
  }
  return format;
}

export interface DeploymentTarget {
  subscriptionId: string;
  tenantId: string;
  /** The target group; absent for a subscription-scope deployment. */
  rg?: Pick<ResourceGroupEntity, 'name' | 'location' | 'tags'> & { managedBy?: string | null };
  /** The deployment's location (subscription scope). */
  location?: string;
  deploymentName: string;
  baseUrl: string;
}

/** The template library's view of where a deployment runs. */
export function deploymentContext(target: DeploymentTarget): DeploymentContext {
  return {
    subscriptionId: target.subscriptionId,
    tenantId: target.tenantId,
    ...(target.rg
      ? {
          resourceGroup: {
            name: target.rg.name,
            location: target.rg.location,
            tags: target.rg.tags,
            ...(target.rg.managedBy ? { managedBy: target.rg.managedBy } : {}),
          },
        }
      : {}),
    ...(target.location ? { location: target.location } : {}),
    deploymentName: target.deploymentName,
    resourceManagerUrl: `${target.baseUrl}/`,
  };
}

/**
 * Checks what the platform can host: every resource type must be served here (NoRegisteredProviderFound before
 * anything is created). At subscription scope a template holds resource groups and nested deployments into a group
 * (checked by nestedDeployment()); nothing else. At resource group scope a nested deployment (a Bicep module) runs
 * in the deployment's own group or the one its `resourceGroup` names.
 */
export function checkHostable(plan: TemplatePlan, target: Pick<DeploymentTarget, 'rg'>): TemplatePlan {
  if (target.rg) {
    // A type no provider serves is the answer first, even when it is declared in a nested deployment (a Bicep
    // module) or its condition is false: that is what the template's author needs to know.
    for (const r of plan.resources) {
      for (const type of [r.type, ...declaredNestedTypes(r)]) {
        if (!isHostedType(type) && !isNestedDeploymentType(type) && !isResourceGroupType(type)) throw noRegisteredProvider(type);
      }
    }
  }
  for (const r of plan.resources) {
    if (isNestedDeploymentType(r.type)) {
      // ARM skips a resource whose condition is false (an AVM module's disabled telemetry deployment) entirely.
      if (r.condition) nestedDeployment(plan, r);
      continue;
    }
    if (!target.rg) {
      if (!isResourceGroupType(r.type)) throw noRegisteredProvider(r.type);
      continue;
    }
    if (isResourceGroupType(r.type)) {
      throw ArmError.badRequest(
        'InvalidTemplate',
        `Deployment template validation failed: 'The resource type '${ResourceTypes.resourceGroups}' of resource '${r.name}' can only be deployed at subscription scope.'.`,
        r.id,
      );
    }
    // Any other type not hosted here was refused by the first loop.
  }
  return plan;
}

/**
 * Validates and expands the template (the lib) on the calling thread, then checks what the platform can host. The
 * API evaluates through TemplateEvaluationPool instead (off its event loop); this is the same thing, synchronous.
 */
export function planDeployment(request: DeploymentRequest, target: DeploymentTarget): TemplatePlan {
  return checkHostable(processTemplate(request.template, request.parameters, deploymentContext(target)), target);
}

/** ARM's templateHash is a decimal number derived from the template text. */
export function templateHash(template: JsonObject): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  return (digest.readBigUInt64BE(0) % 10n ** 19n).toString();
}

/** ISO 8601 duration as ARM prints it (`PT22.8356799S`). */
export function isoDuration(ms: number): string {
  return `PT${(Math.max(0, ms) / 1000).toFixed(3).replace(/\.?0+$/, '')}S`;
}
