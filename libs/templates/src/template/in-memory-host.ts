import { ArmError } from '@cerulean/arm';
import { parseResourceGroupResourceId } from '../resource-ids';
import { Json, JsonObject, clone, getProperty, isObject } from '../values';
import { ListRequest, ReferenceRequest, TemplateHost } from './context';

/**
 * A TemplateHost over a map of resources (id → full resource JSON). For tests and for what-if previews.
 * `reference()` answers the resource's `properties` (or the whole resource with 'Full'); `list*()` answers from
 * `lists` keyed by `<action>:<resource id>` (case-insensitive).
 */
export class InMemoryTemplateHost implements TemplateHost {
  readonly calls: (ReferenceRequest | ListRequest)[] = [];
  private readonly resources = new Map<string, JsonObject>();
  private readonly lists = new Map<string, Json>();

  constructor(resources: Record<string, JsonObject> = {}, lists: Record<string, Json> = {}) {
    for (const [id, r] of Object.entries(resources)) this.put(id, r);
    for (const [k, v] of Object.entries(lists)) this.lists.set(k.toLowerCase(), v);
  }

  put(id: string, resource: JsonObject): void {
    this.resources.set(id.toLowerCase(), resource);
  }

  async reference(request: ReferenceRequest): Promise<Json> {
    this.calls.push(request);
    const resource = this.resources.get(request.resourceId.toLowerCase());
    if (resource === undefined) throw notFound(request.resourceId);
    return clone(request.full ? resource : (getProperty(resource, 'properties') ?? {}));
  }

  async list(request: ListRequest): Promise<Json> {
    this.calls.push(request);
    const value = this.lists.get(`${request.action}:${request.resourceId}`.toLowerCase());
    if (value === undefined) throw notFound(request.resourceId);
    return isObject(value) || Array.isArray(value) ? clone(value) : value;
  }
}

function notFound(id: string): ArmError {
  const parsed = parseResourceGroupResourceId(id);
  return parsed === undefined
    ? ArmError.notFound('ResourceNotFound', `The resource '${id}' was not found.`)
    : ArmError.resourceNotFound(parsed.type, parsed.name, parsed.resourceGroup);
}
