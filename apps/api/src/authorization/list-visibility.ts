import type { ListVisibility } from './authorization.guard';
import { operationReadable } from './route-actions';

/** A list answer without the items the caller may not read (see AuthorizationGuard); any other answer as it is. */
export function visibleItems(visibility: ListVisibility, body: unknown): unknown {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { value?: unknown }).value)) return body;
  const page = body as { value: { id?: unknown; subscriptionId?: unknown; resourceId?: unknown }[] };
  const value = page.value.filter((item) => {
    if (visibility.itemAction === 'member') return typeof item.subscriptionId === 'string' && visibility.grants.memberOf(item.subscriptionId);
    if (visibility.itemAction === 'operation') return typeof item.resourceId === 'string' && operationReadable(visibility.grants, item.resourceId);
    return typeof item.id === 'string' && visibility.grants.permits(visibility.itemAction, item.id);
  });
  return { ...page, value };
}
