import { ApiVersions, ArmError, Caller, parseResourceId } from '@cerulean/arm';
import { Json, ListRequest, ReferenceRequest, TemplateHost } from '@cerulean/templates';
import { ArmFrontDoor, FrontDoorReply, replyError } from './arm-front-door.service';

/** The newest stable version of each namespace this platform serves: `reference(id)` without an api-version uses it. */
const NEWEST_STABLE: Record<string, string> = Object.fromEntries(
  Object.values(ApiVersions).map((set) => [
    set.name.toLowerCase(),
    [...set.versions]
      .filter((v) => !v.includes('-preview'))
      .sort()
      .at(-1) ?? '',
  ]),
);

const apiVersionFor = (resourceId: string, requested?: string): string =>
  requested ?? NEWEST_STABLE[(/\/providers\/([^/]+)\//i.exec(resourceId)?.[1] ?? 'Microsoft.Resources').toLowerCase()] ?? '';

const invalidTarget = (fn: string) =>
  ArmError.badRequest(
    'InvalidTemplate',
    `Unable to evaluate template language function '${fn}': the resource id is not valid. Expect a fully qualified resource id that starts with '/subscriptions/{subscriptionId}'.`,
  );

/** Defence in depth (the template library checks first): only an ARM resource id becomes a request path. */
function checkTarget(fn: string, resourceId: string): void {
  if (parseResourceId(resourceId) === undefined) throw invalidTarget(fn);
}

/** `reference()` and `list*()` of a running deployment: GET and POST through the public API, as the deployer. */
export class FrontDoorTemplateHost implements TemplateHost {
  constructor(
    private readonly frontDoor: ArmFrontDoor,
    private readonly caller: Caller,
    private readonly correlationId: string | null,
  ) {}

  async reference(request: ReferenceRequest): Promise<Json> {
    checkTarget('reference', request.resourceId);
    const reply = await this.send('GET', `${request.resourceId}?api-version=${encodeURIComponent(apiVersionFor(request.resourceId, request.apiVersion))}`);
    const resource = reply.body as Record<string, Json>;
    return request.full ? resource : (resource.properties ?? {});
  }

  async list(request: ListRequest): Promise<Json> {
    checkTarget(request.action, request.resourceId);
    if (!/^list[A-Za-z0-9]*$/i.test(request.action)) throw invalidTarget(request.action);
    const path = `${request.resourceId}/${request.action}?api-version=${encodeURIComponent(apiVersionFor(request.resourceId, request.apiVersion))}`;
    return ((await this.send('POST', path, request.body ?? undefined)).body ?? {}) as Json;
  }

  private async send(method: string, path: string, body?: unknown): Promise<FrontDoorReply> {
    const reply = await this.frontDoor.send(method, path, { body, caller: this.caller, correlationId: this.correlationId });
    if (reply.status >= 400) {
      const e = replyError(reply);
      throw new ArmError(reply.status, e.code, e.message, e.target, e.details);
    }
    return reply;
  }
}
