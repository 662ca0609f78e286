import * as https from 'node:https';
import { text as readText } from 'node:stream/consumers';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';

/** The node's client credential for the cluster's Kubernetes API (the files in NODE_KUBE_DIR). */
export interface KubeClientTls {
  ca: string;
  cert: string;
  key: string;
}

const secureContexts = new WeakMap<KubeClientTls, SecureContext>();

/**
 * One TLS context per credential, shared by every connection of every client made with it. Given only the PEM texts,
 * Node.js builds a context (parsing the CA, certificate and key) for each new connection, about a millisecond of CPU
 * each, in a node's first seconds when a dozen watches and calls connect while containerd starts beside them.
 */
function secureContextFor(tls: KubeClientTls): SecureContext {
  let context = secureContexts.get(tls);
  if (!context) {
    context = createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    secureContexts.set(tls, context);
  }
  return context;
}

/** A keep-alive agent with the node's client certificate for the cluster's Kubernetes API. */
export function kubeApiAgent(tls: KubeClientTls, maxSockets: number): https.Agent {
  return new https.Agent({
    keepAlive: true,
    maxSockets,
    secureContext: secureContextFor(tls),
    // Serving certificates issued before the control plane's alias was in their names still say `kubernetes`.
    checkServerIdentity: (host: string, cert: PeerCertificate) => {
      const err = checkServerIdentity(host, cert);
      return err && checkServerIdentity('kubernetes', cert) ? err : undefined;
    },
  });
}

const REQUEST_TIMEOUT_MS = 10_000;

export interface Answer {
  status: number;
  body: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type PatchType = 'merge' | 'strategic';

/**
 * The node agent's client for the cluster's Kubernetes API, with the node's certificate: plain calls and a streamed
 * watch. Each user (registration, kubelet, each list/watch) has its own, so a long watch never holds a socket the
 * Node's status and Lease need.
 */
export class KubeApi {
  private readonly agent: https.Agent;

  constructor(
    tls: KubeClientTls,
    private readonly apiUrl: string,
    private readonly options: { maxSockets?: number; userAgent?: string } = {},
  ) {
    this.agent = kubeApiAgent(tls, options.maxSockets ?? 4);
  }

  close(): void {
    this.agent.destroy();
  }

  call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, patch: PatchType = 'merge'): Promise<Answer> {
    const text = body === undefined ? '' : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, this.apiUrl),
        {
          method,
          agent: this.agent,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            'content-type':
              method !== 'PATCH' ? 'application/json' : patch === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json',
            'content-length': Buffer.byteLength(text),
            accept: 'application/json',
            'user-agent': this.options.userAgent ?? 'cerulean-kubelet',
          },
        },
        // Settles also when the connection drops mid-answer (a bare 'end' listener would wait for ever then).
        (res) => readText(res).then((data) => resolve({ status: res.statusCode ?? 0, body: data }), reject),
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(text);
    });
  }

  /**
   * A ConfigMap, Secret or PersistentVolumeClaim of a pod's namespace, for the pod's environment, volumes or image
   * pulls; `undefined` when it does not exist, an error for any other failure.
   */
  async readObject<T>(kind: 'configmaps' | 'secrets' | 'persistentvolumeclaims', namespace: string, name: string): Promise<T | undefined> {
    const r = await this.call('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/${kind}/${encodeURIComponent(name)}`);
    if (r.status === 404) return undefined;
    expectOk(r, `read ${kind} ${namespace}/${name}`);
    return JSON.parse(r.body) as T;
  }

  /** A PersistentVolume bound to a claim of one of this node's pods; `undefined` when it does not exist. */
  async readPersistentVolume<T>(name: string): Promise<T | undefined> {
    const r = await this.call('GET', `/api/v1/persistentvolumes/${encodeURIComponent(name)}`);
    if (r.status === 404) return undefined;
    expectOk(r, `read persistentvolume ${name}`);
    return JSON.parse(r.body) as T;
  }

  /**
   * Streams a watch's events to `onEvent` until the server ends it, `abort` fires or the connection fails; resolves
   * with the HTTP status (200 for an ended stream; 410 when the resourceVersion is too old).
   */
  watch<T>(path: string, onEvent: (e: WatchEvent<T>) => void, abort: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, this.apiUrl),
        {
          method: 'GET',
          agent: this.agent,
          signal: abort,
          headers: { accept: 'application/json', 'user-agent': this.options.userAgent ?? 'cerulean-kubelet' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            readText(res).then(() => resolve(res.statusCode ?? 0), reject);
            return;
          }
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let nl: number;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl).trim();
              buffer = buffer.slice(nl + 1);
              if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
            }
          });
          res.on('end', () => resolve(200));
          res.on('error', reject);
        },
      );
      req.on('error', (err) => (abort.aborted ? resolve(0) : reject(err)));
      req.end();
    });
  }
}

export function expectOk(a: Answer, what: string): void {
  if (a.status >= 200 && a.status < 300) return;
  let message = a.body.slice(0, 300);
  try {
    message = String((JSON.parse(a.body) as { message?: string }).message ?? message);
  } catch {
    // not JSON: keep the text
  }
  throw new Error(`cannot ${what}: HTTP ${a.status}: ${message}`);
}
