import { ExpressionError, ExpressionMessages } from '../errors';
import { Json, JsonObject } from '../values';

/**
 * What a deployment knows about where it runs. Plain data: it is stored in the plan and reused at deploy time.
 * The lead fills it from the database (subscription, resource group row, deployment name).
 */
export interface DeploymentContext {
  subscriptionId: string;
  tenantId: string;
  subscriptionDisplayName?: string;
  /** The target group of a resource group deployment; absent for a subscription-scope deployment. */
  resourceGroup?: { name: string; location: string; tags?: Record<string, string>; managedBy?: string };
  /** The deployment's own location (required at subscription scope; `deployment().location`). */
  location?: string;
  deploymentName: string;
  /** Public base URL of this ARM endpoint (environment().resourceManager). Defaults to Azure's. */
  resourceManagerUrl?: string;
  /** Overrides the whole environment() object. */
  environment?: JsonObject;
  /** The template link of the deployment, if it came from a URI (deployment().properties.templateLink). */
  templateLink?: { uri: string; contentVersion?: string };
}

/** A `reference()` the deployment needs answered. */
export interface ReferenceRequest {
  resourceId: string;
  apiVersion?: string;
  /** `reference(id, apiVersion, 'Full')`: the whole resource instead of its `properties`. */
  full: boolean;
  /** True when the resource is declared in this template (it has been deployed by now). */
  inTemplate: boolean;
}

/** A `list*()` call: a POST of `action` on the resource. */
export interface ListRequest {
  /** The function name as written in the template: `listKeys`, `listClusterAdminCredential`... */
  action: string;
  resourceId: string;
  apiVersion?: string;
  body?: Json;
}

/**
 * The outside world for deploy-time expressions (`reference()`, `list*()`). The lead backs it with the database;
 * unit tests use an in-memory map. Both calls are made only after the resources they read have been deployed.
 * Throw an ArmError (for example ResourceNotFound) when the resource does not exist.
 */
export interface TemplateHost {
  reference(request: ReferenceRequest): Promise<Json>;
  list(request: ListRequest): Promise<Json>;
}

/** Non-deterministic inputs of parameter default values; injectable so tests are repeatable. */
export interface ProcessOptions {
  newGuid?: () => string;
  now?: () => Date;
  /**
   * Wall-clock bound of the evaluation (epoch ms): past it, evaluation stops with InvalidTemplate. The work
   * allowance applies in any case; this adds a time budget for callers that cannot interrupt a synchronous run.
   */
  deadline?: { at: number; seconds: number };
  /**
   * Called with each resource body value made from a secure value (what-if collects them to mask its answer;
   * whatever receives them must not store them).
   */
  onSecureValue?: (value: Json) => void;
}

/** What a secure value looks like in a what-if result. */
export const SECURE_VALUE_MASK = '(secure value)';

const AZURE_RESOURCE_MANAGER = 'https://management.azure.com/';

/** environment(): Azure public cloud's shape, with resourceManager pointing at this service. */
export function environmentObject(context: DeploymentContext): JsonObject {
  if (context.environment !== undefined) return context.environment;
  const resourceManager = context.resourceManagerUrl ?? AZURE_RESOURCE_MANAGER;
  return {
    name: 'AzureCloud',
    gallery: 'https://gallery.azure.com/',
    graph: 'https://graph.windows.net/',
    portal: 'https://portal.azure.com',
    graphAudience: 'https://graph.windows.net/',
    activeDirectoryDataLake: 'https://datalake.azure.net/',
    batch: 'https://batch.core.windows.net/',
    media: 'https://rest.media.azure.net',
    sqlManagement: 'https://management.core.windows.net:8443/',
    vmImageAliasDoc: 'https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json',
    resourceManager,
    authentication: {
      loginEndpoint: 'https://login.microsoftonline.com/',
      audiences: ['https://management.core.windows.net/', resourceManager],
      tenant: 'common',
      identityProvider: 'AAD',
    },
    suffixes: {
      acrLoginServer: '.azurecr.io',
      azureDatalakeAnalyticsCatalogAndJob: 'azuredatalakeanalytics.net',
      azureDatalakeStoreFileSystem: 'azuredatalakestore.net',
      azureFrontDoorEndpointSuffix: 'azurefd.net',
      keyvaultDns: '.vault.azure.net',
      sqlServerHostname: '.database.windows.net',
      storage: 'core.windows.net',
    },
  };
}

/** True for a subscription-scope deployment (no target resource group). */
export const isSubscriptionScope = (context: DeploymentContext): boolean => context.resourceGroup === undefined;

/** resourceGroup(); only a resource group deployment has one (ARM: "not expected at this location" elsewhere). */
export function resourceGroupObject(context: DeploymentContext): JsonObject {
  const rg = context.resourceGroup;
  if (rg === undefined) throw new ExpressionError(ExpressionMessages.notExpectedHere('resourceGroup'));
  const out: JsonObject = {
    id: `/subscriptions/${context.subscriptionId}/resourceGroups/${rg.name}`,
    name: rg.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: rg.location,
    properties: { provisioningState: 'Succeeded' },
  };
  if (rg.managedBy !== undefined) out['managedBy'] = rg.managedBy;
  if (rg.tags !== undefined) out['tags'] = rg.tags;
  return out;
}

export function subscriptionObject(context: DeploymentContext): JsonObject {
  return {
    id: `/subscriptions/${context.subscriptionId}`,
    subscriptionId: context.subscriptionId,
    tenantId: context.tenantId,
    displayName: context.subscriptionDisplayName ?? context.subscriptionId,
  };
}

export function tenantObject(context: DeploymentContext): JsonObject {
  return { id: `/tenants/${context.tenantId}`, tenantId: context.tenantId, countryCode: 'US', displayName: context.tenantId };
}
