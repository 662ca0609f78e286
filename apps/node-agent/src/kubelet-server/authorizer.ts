import { request } from 'node:https';
import { text as readText } from 'node:stream/consumers';
import type { KubeletAuthorizer, KubeletRequestAttributes, KubeletUser } from './server';

/** kubelet's defaults (--authorization-webhook-cache-authorized-ttl / -unauthorized-ttl). */
const ALLOWED_TTL_MS = 5 * 60_000;
const DENIED_TTL_MS = 30_000;
const REVIEW_TIMEOUT_MS = 10_000;

export interface WebhookAuthorizerOptions {
  /** The cluster's API server, e.g. https://cerulean-control-plane:6443. */
  apiUrl: string;
  /** The node's own client credential (system:node:<name>): a node may create SubjectAccessReviews. */
  tls: { ca: string; cert: string; key: string };
  nodeName: string;
  allowedTtlMs?: number;
  deniedTtlMs?: number;
}

export class AuthorizationError extends Error {}

/**
 * kubelet's `--authorization-mode=Webhook`: each caller is checked by a SubjectAccessReview for `<verb>
 * nodes/<subresource>` on this node, answers cached a while (longer when allowed). A review that cannot be made is
 * an AuthorizationError (kubelet answers 500), never an allow.
 */
export function webhookAuthorizer(opts: WebhookAuthorizerOptions): KubeletAuthorizer {
  const cache = new Map<string, { allowed: boolean; until: number }>();
  return async (user: KubeletUser, attrs: KubeletRequestAttributes): Promise<boolean> => {
    const key = JSON.stringify([user.name, [...user.groups].sort(), attrs.verb, attrs.subresource]);
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.allowed;
    const allowed = await review(opts, user, attrs);
    cache.set(key, { allowed, until: Date.now() + (allowed ? (opts.allowedTtlMs ?? ALLOWED_TTL_MS) : (opts.deniedTtlMs ?? DENIED_TTL_MS)) });
    return allowed;
  };
}

function review(opts: WebhookAuthorizerOptions, user: KubeletUser, attrs: KubeletRequestAttributes): Promise<boolean> {
  const body = JSON.stringify({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: user.name,
      groups: user.groups,
      resourceAttributes: { verb: attrs.verb, group: '', version: 'v1', resource: 'nodes', subresource: attrs.subresource, name: opts.nodeName },
    },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/apis/authorization.k8s.io/v1/subjectaccessreviews', opts.apiUrl),
      {
        method: 'POST',
        ca: opts.tls.ca,
        cert: opts.tls.cert,
        key: opts.tls.key,
        timeout: REVIEW_TIMEOUT_MS,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) =>
        readText(res).then(
          (data) => {
            if (res.statusCode !== 201 && res.statusCode !== 200)
              return reject(new AuthorizationError(`SubjectAccessReview answered ${res.statusCode}: ${data.slice(0, 200)}`));
            try {
              resolve((JSON.parse(data) as { status?: { allowed?: boolean } }).status?.allowed === true);
            } catch (err) {
              reject(new AuthorizationError(`SubjectAccessReview answer is not JSON: ${String(err)}`));
            }
          },
          (err: Error) => reject(new AuthorizationError(`SubjectAccessReview answer broke off: ${err.message}`)),
        ),
    );
    req.on('timeout', () => req.destroy(new AuthorizationError('SubjectAccessReview timed out')));
    req.on('error', (err) => reject(err instanceof AuthorizationError ? err : new AuthorizationError(err.message)));
    req.end(body);
  });
}
