import type { KubeClient, KubeObject } from '../client/kube-client';
import type { InformerHub } from './informer-hub';

export type Log = (message: string, fields?: Record<string, unknown>) => void;

/** What every controller is given: the client, a logger, and the clock (tests move time where they must). */
export interface ControllerContext {
  client: KubeClient;
  /** Shared informers: controllers register their handlers on it before it starts. */
  informers: InformerHub;
  log?: Log;
  now?: () => Date;
}

export interface Controller {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
}

/** `namespace/name` (or `name` for cluster-scoped objects): the key the work queues carry. */
export function keyOf(obj: Pick<KubeObject, 'metadata'>): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Timestamps as the API writes them: RFC 3339 to the second (one definition, in libs/kube). */
export { apiTime } from '@cerulean/kube';
