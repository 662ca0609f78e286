import type { ServerResponse } from 'node:http';
import { request, type RequestOptions } from 'node:https';
import { isPlainObject, JsonObject, KubeError, KubeObject, StatusCause, apiTime } from '@cerulean/kube';

/** v1.PodLogOptions as the query of `GET pods/{name}/log` carries it. */
export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  sinceSeconds?: number;
  /** RFC 3339, as given. */
  sinceTime?: string;
  insecureSkipTLSVerifyBackend: boolean;
}

const KUBELET_DIAL_TIMEOUT_MS = 30_000;

/** kubectl's annotation naming the container `kubectl logs` and `exec` use when none is given. */
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/**
 * Decodes and validates the query as upstream: a value that does not convert is a 400, options that do not
 * validate (ValidatePodLogOptions) a 422 `PodLogOptions "<pod>" is invalid`.
 */
export function parsePodLogOptions(q: URLSearchParams, pod: string): PodLogOptions {
  const bool = (key: string): boolean => {
    const v = q.get(key);
    if (v === null || v === '') return false;
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
    throw KubeError.badRequest(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
  };
  const int = (key: string): number | undefined => {
    const v = q.get(key);
    if (v === null || v === '') return undefined;
    if (!/^[+-]?\d+$/.test(v)) throw KubeError.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const sinceTime = q.get('sinceTime') || undefined;
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime)))
    throw KubeError.badRequest(`parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  const opts: PodLogOptions = {
    container: q.get('container') || undefined,
    follow: bool('follow'),
    previous: bool('previous'),
    timestamps: bool('timestamps'),
    tailLines: int('tailLines'),
    limitBytes: int('limitBytes'),
    sinceSeconds: int('sinceSeconds'),
    sinceTime,
    insecureSkipTLSVerifyBackend: bool('insecureSkipTLSVerifyBackend'),
  };
  const causes: StatusCause[] = [];
  const invalid = (field: string, value: number, detail: string) =>
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${detail}`, field });
  if (opts.tailLines !== undefined && opts.tailLines < 0) invalid('tailLines', opts.tailLines, 'must be greater than or equal to 0');
  if (opts.limitBytes !== undefined && opts.limitBytes < 1) invalid('limitBytes', opts.limitBytes, 'must be greater than 0');
  if (opts.sinceSeconds !== undefined && opts.sinceTime !== undefined)
    causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified', field: '' });
  if (opts.sinceSeconds !== undefined && opts.sinceSeconds < 1) invalid('sinceSeconds', opts.sinceSeconds, 'must be greater than 0');
  if (causes.length) throw KubeError.invalid('PodLogOptions', '', pod, causes);
  return opts;
}

const names = (list: unknown): string[] => (Array.isArray(list) ? list.filter(isPlainObject).map((c) => String((c as JsonObject).name ?? '')) : []);

/**
 * The container whose log is asked for, as upstream's ValidateContainer: the one named (any of the pod's
 * containers, init and ephemeral ones included), else the only container or kubectl's default-container annotation.
 */
export function selectContainer(pod: KubeObject, requested: string | undefined): string {
  const spec = (pod.spec ?? {}) as JsonObject;
  const name = pod.metadata.name;
  const containers = names(spec.containers);
  const init = names(spec.initContainers);
  const ephemeral = names(spec.ephemeralContainers);
  if (requested) {
    if (![...containers, ...init, ...ephemeral].includes(requested)) throw KubeError.badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && containers.includes(annotated)) return annotated;
  if (containers.length === 1) return containers[0];
  if (!containers.length) throw KubeError.badRequest(`a container name must be specified for pod ${name}`);
  let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
  if (init.length) message += ` or one of the init containers: [${init.join(' ')}]`;
  if (ephemeral.length) message += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
  throw KubeError.badRequest(message);
}

/** Where a node's kubelet listens: its InternalIP (else its Hostname) and the port its status reports (kubelet's 10250 if none). */
export function kubeletAddress(node: KubeObject): { host: string; port: number } {
  const status = (node.status ?? {}) as JsonObject;
  const addresses = Array.isArray(status.addresses) ? (status.addresses.filter(isPlainObject) as { type?: string; address?: string }[]) : [];
  const host = addresses.find((a) => a.type === 'InternalIP')?.address ?? addresses.find((a) => a.type === 'Hostname')?.address;
  if (!host) throw KubeError.badRequest(`node ${node.metadata.name} has no address`);
  const endpoints = (status.daemonEndpoints ?? {}) as { kubeletEndpoint?: { Port?: unknown } };
  const port = Number(endpoints.kubeletEndpoint?.Port ?? 0);
  return { host, port: Number.isInteger(port) && port > 0 ? port : 10250 };
}

/** The kubelet's containerLogs query for these options (the container goes into the path). */
export function kubeletLogQuery(opts: PodLogOptions): string {
  const q = new URLSearchParams();
  if (opts.follow) q.set('follow', 'true');
  if (opts.previous) q.set('previous', 'true');
  if (opts.timestamps) q.set('timestamps', 'true');
  if (opts.sinceSeconds !== undefined) q.set('sinceSeconds', String(opts.sinceSeconds));
  if (opts.sinceTime !== undefined) q.set('sinceTime', apiTime(new Date(opts.sinceTime)));
  if (opts.tailLines !== undefined) q.set('tailLines', String(opts.tailLines));
  if (opts.limitBytes !== undefined) q.set('limitBytes', String(opts.limitBytes));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/**
 * A kubelet's error answer as the API server passes it on (upstream's GenericHttpResponseChecker): 400 and 500 keep the
 * kubelet's text, other codes get the generic message naming `<kind> <pod>` (pods/log, pods/exec).
 */
export function kubeletError(code: number, body: string, pod: string, kind = 'pods/log'): KubeError {
  const text = body.trim();
  if (code === 400) return KubeError.badRequest(text);
  if (code === 500) return KubeError.internal(text);
  const details = { name: pod, group: '', kind };
  const generic: Record<number, [string, string]> = {
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', text],
    404: ['NotFound', 'the server could not find the requested resource'],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  const [reason, message] =
    generic[code] ??
    (code >= 500
      ? ['InternalError', `an error on the server (${JSON.stringify(text)}) has prevented the request from succeeding`]
      : ['', `the server responded with the status code ${code} but did not return more information`]);
  return new KubeError(code, reason, `${message} ( ${kind} ${pod})`, details);
}

export interface KubeletClientConfig {
  /** The API server's client certificate toward kubelets. */
  cert?: { certPem: string; keyPem: string };
  /** Verifies the kubelet's serving certificate (for the node's name); without it, it is not verified, as upstream. */
  caPem?: string;
}

export interface PodLogTarget {
  namespace: string;
  pod: string;
  container: string;
  nodeName: string;
  kubelet: { host: string; port: number };
}

/**
 * Streams a container's log from its node's kubelet to `res`: the kubelet's answer as it comes (a followed log until
 * the kubelet ends it or the client leaves). A kubelet that cannot be reached, or answers with an error before any
 * log, is a Status error (thrown); a failure after the log started cuts the response, as upstream.
 */
export function proxyContainerLog(res: ServerResponse, target: PodLogTarget, opts: PodLogOptions, client: KubeletClientConfig): Promise<void> {
  const path = `/containerLogs/${[target.namespace, target.pod, target.container].map(encodeURIComponent).join('/')}${kubeletLogQuery(opts)}`;
  const verify = !!client.caPem && !opts.insecureSkipTLSVerifyBackend;
  const options: RequestOptions = {
    host: target.kubelet.host,
    port: target.kubelet.port,
    path,
    method: 'GET',
    servername: target.nodeName,
    ca: client.caPem,
    cert: client.cert?.certPem,
    key: client.cert?.keyPem,
    rejectUnauthorized: verify,
    agent: false,
  };
  const url = `https://${target.kubelet.host.includes(':') ? `[${target.kubelet.host}]` : target.kubelet.host}:${target.kubelet.port}${path}`;
  return new Promise<void>((resolve, reject) => {
    const upstream = request(options, (answer) => {
      const code = answer.statusCode ?? 500;
      if (code < 200 || code > 206) {
        let body = '';
        answer.setEncoding('utf8');
        answer.on('data', (c: string) => (body = (body + c).slice(0, 64 * 1024)));
        answer.on('end', () => reject(kubeletError(code, body, target.pod)));
        answer.on('error', (err) => reject(unreachable(url, err)));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      answer.pipe(res);
      answer.on('end', () => resolve());
      answer.on('error', () => {
        res.destroy();
        resolve();
      });
    });
    // Until the kubelet answers (it sends its headers at once, before any log): upstream's 30 s dial timeout.
    const dialing = setTimeout(
      () => upstream.destroy(new Error(`dial tcp ${target.kubelet.host}:${target.kubelet.port}: i/o timeout`)),
      KUBELET_DIAL_TIMEOUT_MS,
    );
    upstream.on('response', () => clearTimeout(dialing));
    upstream.on('close', () => clearTimeout(dialing));
    // The client went away (or the answer is done): let go of the kubelet.
    res.on('close', () => upstream.destroy());
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else reject(unreachable(url, err));
    });
    upstream.end();
  });
}

/** What upstream answers when it cannot talk to the kubelet: a 500 with Go's error text, the reason left unknown. */
function unreachable(url: string, err: Error): KubeError {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const dial = e.code === 'ECONNREFUSED' ? `dial tcp ${e.address ?? ''}:${e.port ?? ''}: connect: connection refused` : err.message;
  return new KubeError(500, '', `Get ${JSON.stringify(url)}: ${dial}`);
}
