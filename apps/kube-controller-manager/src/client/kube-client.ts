import * as https from 'node:https';
import * as http from 'node:http';

/** Where and as whom the controllers reach the API server (a client certificate of the cluster CA). */
export interface KubeClientConfig {
  /** `https://127.0.0.1:6443` */
  server: string;
  /** A bearer token instead of (or besides) the client certificate: the API server's own loopback token. */
  token?: string;
  /** A Unix socket to reach `server` through (plain HTTP: the in-process API server's loopback socket). */
  socketPath?: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** User-Agent, as upstream components send theirs (`kube-scheduler/v1.33.2`). */
  userAgent?: string;
}

/** A Kubernetes `Status` failure the server answered, kept whole so callers can branch on reason and code. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface KubeList<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export type WatchEvent<T> =
  { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T } | { type: 'ERROR'; object: { code?: number; reason?: string; message?: string } };

export type PatchType = 'merge' | 'strategic' | 'json';
const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

/**
 * The small client the controllers and the scheduler use: JSON over one keep-alive HTTPS agent, paths as the
 * API spells them (`/api/v1/namespaces/default/pods`), errors as `KubeApiError`, watches as async iterables.
 */
export class KubeClient {
  private readonly url: URL;
  private readonly agent: https.Agent | http.Agent;
  /** Watches hold their connection for minutes: on the request agent they would use up its sockets. */
  private readonly watchAgent: https.Agent | http.Agent;

  constructor(private readonly config: KubeClientConfig) {
    this.url = new URL(config.server);
    this.agent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, maxSockets: 16, ca: config.ca, cert: config.cert, key: config.key })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
    this.watchAgent =
      this.url.protocol === 'https:'
        ? new https.Agent({ keepAlive: false, ca: config.ca, cert: config.cert, key: config.key })
        : new http.Agent({ keepAlive: false });
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** The object as the API has it now, or undefined when it does not exist (for a controller whose cache may lag). */
  async getIfExists<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  list<T>(path: string, query: Record<string, string> = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', withQuery(path, query));
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  update<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  patch<T>(path: string, body: unknown, type: PatchType = 'merge'): Promise<T> {
    return this.request<T>('PATCH', path, body, PATCH_CONTENT_TYPE[type]);
  }

  delete<T>(path: string, options?: unknown): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  /**
   * A watch from `resourceVersion`: events until the server ends the stream or `signal` aborts. An `ERROR`
   * event (410 Gone after compaction, say) is yielded as it came; the caller decides to relist.
   */
  async *watch<T>(path: string, resourceVersion: string, signal?: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const res = await this.open(
      'GET',
      withQuery(path, { watch: 'true', resourceVersion, allowWatchBookmarks: 'true' }),
      undefined,
      undefined,
      signal,
      this.watchAgent,
    );
    if ((res.statusCode ?? 500) >= 300) throw await failure(res);
    let buffer = '';
    try {
      for await (const chunk of res) {
        buffer += (chunk as Buffer).toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } catch (err) {
      if (!signal?.aborted) throw err;
    }
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  private async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const res = await this.open(method, path, body, contentType);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 300) throw statusError(res.statusCode ?? 500, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private open(method: string, path: string, body: unknown, contentType?: string, signal?: AbortSignal, agent = this.agent): Promise<http.IncomingMessage> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const transport = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(
        {
          protocol: this.url.protocol,
          ...(this.config.socketPath ? { socketPath: this.config.socketPath } : { hostname: this.url.hostname, port: this.url.port }),
          method,
          path,
          agent,
          signal,
          headers: {
            accept: 'application/json',
            'user-agent': this.config.userAgent ?? 'cerulean-controller-manager',
            ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
            ...(payload ? { 'content-type': contentType ?? 'application/json', 'content-length': payload.length } : {}),
          },
        },
        resolve,
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function withQuery(path: string, query: Record<string, string>): string {
  const q = new URLSearchParams(query).toString();
  return q ? `${path}${path.includes('?') ? '&' : '?'}${q}` : path;
}

async function readAll(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function failure(res: http.IncomingMessage): Promise<KubeApiError> {
  return statusError(res.statusCode ?? 500, await readAll(res));
}

function statusError(code: number, text: string): KubeApiError {
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string; code?: number };
    return new KubeApiError(status.code ?? code, status.reason ?? '', status.message ?? text);
  } catch {
    return new KubeApiError(code, '', text.slice(0, 500));
  }
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}
