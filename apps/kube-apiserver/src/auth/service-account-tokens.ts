import { randomUUID } from 'node:crypto';
import { isPlainObject, JsonObject, KubeError, KubeObject, ResourceType, apiTime } from '@cerulean/kube';
import type { UserInfo } from '../http';
import type { RestStorage } from '../rest';
import { JwtKey } from './jwt';

/** Upstream's default --service-account-issuer on AKS and kubeadm; the API audience defaults to it. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
const DEFAULT_EXPIRATION_SECONDS = 3600;

interface ObjectRefClaim {
  name: string;
  uid: string;
}

interface KubernetesClaim {
  namespace: string;
  serviceaccount: ObjectRefClaim;
  pod?: ObjectRefClaim;
  secret?: ObjectRefClaim;
  node?: ObjectRefClaim;
}

/**
 * Bound service-account tokens (the TokenRequest API) and their authentication, as upstream's serviceaccount token
 * generator and JWT authenticator do it: a signed JWT naming the issuer, audiences, lifetime and the service account
 * (and the pod or secret it is bound to) by name and uid; a token is valid only while its signature, lifetime and
 * audience hold and those objects still exist with the same uid, so deleting one revokes its tokens.
 */
export class ServiceAccountTokens {
  private readonly key: JwtKey;
  readonly issuer = DEFAULT_ISSUER;
  readonly apiAudiences = [DEFAULT_ISSUER];

  constructor(
    keyPem: string,
    private readonly storage: RestStorage,
    private readonly now: () => number = Date.now,
  ) {
    this.key = new JwtKey(keyPem);
  }

  private rt(group: string, plural: string): ResourceType {
    return this.storage.registry.lookup(group, 'v1', plural) as ResourceType;
  }

  /** `POST serviceaccounts/{name}/token`: the TokenRequest with status.token filled in. */
  async tokenRequest(namespace: string, name: string, body: unknown, dryRun: boolean): Promise<JsonObject> {
    const req = isPlainObject(body) ? body : {};
    if ((req.kind !== undefined && req.kind !== 'TokenRequest') || (req.apiVersion !== undefined && req.apiVersion !== 'authentication.k8s.io/v1'))
      throw KubeError.badRequest(`the body of the request must be an authentication.k8s.io/v1 TokenRequest, not ${String(req.apiVersion)} ${String(req.kind)}`);
    const spec = isPlainObject(req.spec) ? req.spec : {};
    const invalid = (field: string, message: string) =>
      KubeError.invalid('TokenRequest', 'authentication.k8s.io', name, [{ reason: 'FieldValueInvalid', message, field }]);
    const exp = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (typeof exp !== 'number' || !Number.isInteger(exp)) throw invalid('spec.expirationSeconds', `Invalid value: ${JSON.stringify(exp)}: must be an integer`);
    if (exp < MIN_EXPIRATION_SECONDS) throw invalid('spec.expirationSeconds', `Invalid value: ${exp}: may not specify a duration less than 10 minutes`);
    if (exp > MAX_EXPIRATION_SECONDS) throw invalid('spec.expirationSeconds', `Invalid value: ${exp}: may not specify a duration larger than 2^32 seconds`);
    const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences : this.apiAudiences;
    if (!audiences.every((a) => typeof a === 'string' && a)) throw invalid('spec.audiences', 'Invalid value: audiences must be non-empty strings');

    const sa = (await this.storage.get(this.rt('', 'serviceaccounts'), namespace, name)).obj;
    const claim: KubernetesClaim = { namespace, serviceaccount: { name, uid: sa.metadata.uid as string } };
    const ref = isPlainObject(spec.boundObjectRef) ? spec.boundObjectRef : undefined;
    if (ref) await this.bind(claim, ref, namespace, name);

    const iat = Math.floor(this.now() / 1000);
    const token = this.key.sign({
      aud: audiences,
      exp: iat + exp,
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': claim,
      nbf: iat,
      sub: `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`,
    });
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace, creationTimestamp: isoSeconds(iat) },
      spec: { audiences, expirationSeconds: exp, boundObjectRef: ref ?? null },
      status: { token: dryRun ? '' : token, expirationTimestamp: isoSeconds(iat + exp) },
    };
  }

  /** boundObjectRef: a Pod (running as this service account) or a Secret of the namespace, by name and optional uid. */
  private async bind(claim: KubernetesClaim, ref: JsonObject, namespace: string, sa: string): Promise<void> {
    const kind = String(ref.kind ?? '');
    const apiVersion = String(ref.apiVersion ?? '');
    const refName = String(ref.name ?? '');
    if ((kind !== 'Pod' && kind !== 'Secret') || apiVersion !== 'v1')
      throw KubeError.badRequest(`cannot bind token for serviceaccount "${sa}" to object of kind "${apiVersion}, Kind=${kind}"`);
    if (!refName)
      throw KubeError.invalid('TokenRequest', 'authentication.k8s.io', sa, [
        { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.boundObjectRef.name' },
      ]);
    const obj = (await this.storage.get(this.rt('', kind === 'Pod' ? 'pods' : 'secrets'), namespace, refName)).obj;
    const uid = obj.metadata.uid as string;
    if (ref.uid && ref.uid !== uid)
      throw KubeError.conflict(
        { group: '', resource: kind },
        refName,
        `the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    if (kind === 'Secret') {
      claim.secret = { name: refName, uid };
      return;
    }
    const podSa = ((obj.spec as JsonObject | undefined)?.serviceAccountName as string | undefined) || 'default';
    if (podSa !== sa) throw KubeError.badRequest(`cannot bind token for serviceaccount "${sa}" to pod running with different serviceaccount name.`);
    claim.pod = { name: refName, uid };
    const nodeName = (obj.spec as JsonObject | undefined)?.nodeName as string | undefined;
    if (nodeName) {
      const node = await this.storage.tryGet(this.rt('', 'nodes'), undefined, nodeName);
      if (node) claim.node = { name: nodeName, uid: node.obj.metadata.uid as string };
    }
  }

  /**
   * The user a bearer token names, or undefined when it is not a valid token of this issuer for this server: bad
   * signature, expired or not yet valid, another audience, or a service account / bound object gone or made again.
   */
  async authenticate(token: string, audiences: string[] = this.apiAudiences): Promise<UserInfo | undefined> {
    const c = this.key.verify(token);
    if (!c || c.iss !== this.issuer) return undefined;
    const now = Math.floor(this.now() / 1000);
    if (typeof c.exp !== 'number' || now >= c.exp) return undefined;
    if (typeof c.nbf === 'number' && now < c.nbf) return undefined;
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
    if (!aud.some((a) => audiences.includes(a as string))) return undefined;
    const k = c['kubernetes.io'] as KubernetesClaim | undefined;
    if (!isPlainObject(k) || !k.namespace || !isPlainObject(k.serviceaccount)) return undefined;
    if (c.sub !== `${SERVICE_ACCOUNT_USER_PREFIX}${k.namespace}:${k.serviceaccount.name}`) return undefined;
    const alive = async (group: string, plural: string, namespace: string | undefined, ref: ObjectRefClaim | undefined) => {
      if (!ref) return true;
      const s = await this.storage.tryGet(this.rt(group, plural), namespace, ref.name);
      return !!s && s.obj.metadata.uid === ref.uid && !this.deletedLongAgo(s.obj, now);
    };
    if (!(await alive('', 'serviceaccounts', k.namespace, k.serviceaccount))) return undefined;
    if (!(await alive('', 'pods', k.namespace, k.pod))) return undefined;
    if (!(await alive('', 'secrets', k.namespace, k.secret))) return undefined;
    const extra: Record<string, string[]> = {};
    if (typeof c.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c.jti}`];
    if (k.pod) {
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.node) {
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
      extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
    }
    return {
      name: c.sub,
      uid: k.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
      ...(Object.keys(extra).length ? { extra } : {}),
    };
  }

  /** Upstream still honours a token bound to an object being deleted for a minute past its deletionTimestamp. */
  private deletedLongAgo(obj: KubeObject, now: number): boolean {
    const ts = obj.metadata.deletionTimestamp;
    return !!ts && Date.parse(ts) / 1000 < now - 60;
  }

  /** `/.well-known/openid-configuration` (upstream's service-account issuer discovery). */
  openidConfiguration(): JsonObject {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [this.key.alg],
    };
  }

  jwks(): JsonObject {
    return { keys: [this.key.jwk()] };
  }
}

const isoSeconds = (s: number) => apiTime(new Date(s * 1000));
