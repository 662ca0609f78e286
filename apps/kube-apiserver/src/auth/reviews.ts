import { apiVersionOf, isPlainObject, JsonObject, KubeError, ResourceType, apiTime } from '@cerulean/kube';
import type { Authorizer, RequestAttributes } from '../authz';
import type { UserInfo } from '../http';
import type { PolicyRule } from '../rbac/types';
import type { ServiceAccountTokens } from './service-account-tokens';

interface AuthChain {
  authorizer: Authorizer;
  tokens: ServiceAccountTokens;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');
const now = () => apiTime(new Date());

/**
 * The review kinds of authorization.k8s.io and authentication.k8s.io, answered as upstream's REST handlers answer
 * them: access reviews by the real authorizer chain (for the caller, or for any user and groups with
 * SubjectAccessReview), rules reviews by the rules RBAC grants, SelfSubjectReview with the caller's identity, and
 * TokenReview with the service-account token authenticator. Whether the caller may create one at all was already
 * authorized like any other request (system:basic-user grants the self reviews).
 */
export async function answerReview(rt: ResourceType, namespace: string | undefined, body: unknown, caller: UserInfo, auth: AuthChain): Promise<JsonObject> {
  const obj = isPlainObject(body) ? body : {};
  const spec = isPlainObject(obj.spec) ? obj.spec : {};
  const out = (status: JsonObject, outSpec: JsonObject = spec, metadata: JsonObject = { creationTimestamp: null }) => ({
    kind: rt.kind,
    apiVersion: apiVersionOf(rt),
    metadata: { ...(isPlainObject(obj.metadata) ? obj.metadata : {}), ...metadata },
    ...(rt.kind === 'SelfSubjectReview' ? {} : { spec: outSpec }),
    status,
  });
  const invalid = (field: string, message: string, reason = 'FieldValueInvalid') => KubeError.invalid(rt.kind, rt.group, '', [{ reason, message, field }]);

  switch (rt.kind) {
    case 'SelfSubjectReview':
      return out({ userInfo: userInfoOf(caller) }, undefined, { creationTimestamp: now() });
    case 'TokenReview': {
      const token = str(spec.token);
      if (!token) throw KubeError.badRequest('token is required for TokenReview in authentication');
      const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences.map(String) : auth.tokens.apiAudiences;
      const user = await auth.tokens.authenticate(token, audiences);
      return out(user ? { authenticated: true, user: userInfoOf(user), audiences } : { user: {}, error: 'invalid bearer token' });
    }
    case 'SelfSubjectRulesReview': {
      const ns = str(spec.namespace);
      const r = auth.authorizer.rulesFor(caller, ns || undefined);
      return out({
        resourceRules: r.rules.filter((x) => x.resources?.length).map(resourceRule),
        nonResourceRules: r.rules.filter((x) => x.nonResourceURLs?.length).map((x) => ({ verbs: x.verbs, nonResourceURLs: x.nonResourceURLs })),
        incomplete: r.incomplete,
        ...(r.errors.length ? { evaluationError: r.errors.join(', ') } : {}),
      });
    }
    default: {
      // SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview.
      const ra = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
      const nra = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
      if (ra && nra) throw invalid('spec.nonResourceAttributes', 'Invalid value: "object": cannot be specified in combination with resourceAttributes');
      if (!ra && !nra)
        throw invalid(
          'spec.resourceAttributes',
          'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
          'FieldValueRequired',
        );
      let subject = caller;
      if (rt.kind !== 'SelfSubjectAccessReview') {
        const groups = Array.isArray(spec.groups) ? spec.groups.map(String) : [];
        if (!str(spec.user) && !groups.length) throw invalid('spec.user', 'Invalid value: "": at least one of user or group must be specified');
        subject = { name: str(spec.user), groups, ...(str(spec.uid) ? { uid: str(spec.uid) } : {}) };
      }
      let outSpec = spec;
      if (rt.kind === 'LocalSubjectAccessReview') {
        if (nra) throw invalid('spec.nonResourceAttributes', 'Invalid value: "object": disallowed on this kind of request');
        const given = str(ra?.namespace);
        if (given && given !== namespace) throw KubeError.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
        outSpec = { ...spec, resourceAttributes: { ...ra, namespace } };
      }
      const attrs: RequestAttributes = ra
        ? {
            resourceRequest: true,
            verb: str(ra.verb),
            group: str(ra.group),
            resource: str(ra.resource),
            subresource: str(ra.subresource) || undefined,
            namespace: (rt.kind === 'LocalSubjectAccessReview' ? namespace : str(ra.namespace)) || undefined,
            name: str(ra.name) || undefined,
          }
        : { resourceRequest: false, verb: str(nra?.verb), path: str(nra?.path) };
      const d = auth.authorizer.authorize(subject, attrs);
      return out({ allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) }, outSpec);
    }
  }
}

function resourceRule(r: PolicyRule): JsonObject {
  return {
    verbs: r.verbs,
    apiGroups: r.apiGroups ?? [],
    resources: r.resources ?? [],
    ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
  };
}

function userInfoOf(u: UserInfo): JsonObject {
  return { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}
