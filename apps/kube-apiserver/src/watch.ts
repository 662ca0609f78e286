import { ServerResponse } from 'node:http';
import {
  apiVersionOf,
  FieldRequirement,
  KubeError,
  KubeObject,
  LabelSelector,
  matchesFields,
  matchesLabels,
  ResourceType,
  toTable,
  IncludeObject,
} from '@cerulean/kube';
import { RestStorage, parseRv } from './rest';
import { StorageEvent } from './storage/etcd-storage';

export interface WatchParams {
  rt: ResourceType;
  namespace?: string;
  labels: LabelSelector;
  fields: FieldRequirement[];
  resourceVersion: string;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  timeoutSeconds: number;
  table?: { include: IncludeObject };
  bookmarkIntervalMs: number;
}

/**
 * A watch as a chunked stream of JSON lines (`{"type":"ADDED","object":…}`), over an etcd watch from the requested
 * resourceVersion. Without one (or "0"), the current objects come first as ADDED. Selector matches are judged per
 * event against the old and new object, so an object leaving the selection is DELETED for this watcher.
 */
const EVENT_END = Buffer.from('}\n');

export async function serveWatch(res: ServerResponse, storage: RestStorage, p: WatchParams, onClose: (cb: () => void) => void): Promise<void> {
  const converting = storage.converts(p.rt);
  // Fields are selected on the object as served (labels are the same in every version).
  const match = (o: KubeObject | undefined) =>
    !!o && matchesLabels(p.labels, o.metadata.labels) && matchesFields(p.fields, converting && p.fields.length ? storage.served(p.rt, o) : o);
  // `o` as served: a list's items already are, a stored event's object is made so (converted when another resource stores it).
  const printed = storage.printed(p.rt);
  const render = (served: KubeObject): unknown => (p.table ? toTable(p.rt.kind, [served], { include: p.table.include, printed }) : served);
  const renderStored = (o: KubeObject): unknown => render(storage.served(p.rt, o));
  let startRev: number;
  let initial: KubeObject[] = [];
  const rv = p.resourceVersion;
  if (rv === '' || rv === '0' || p.sendInitialEvents) {
    const list = await storage.list(p.rt, p.namespace, { labels: p.labels, fields: p.fields });
    startRev = Number(list.resourceVersion);
    if (rv === '' || rv === '0' || p.sendInitialEvents) initial = list.items;
  } else startRev = parseRv(rv);

  let lastRev = startRev;
  let open = true;
  const timers: NodeJS.Timeout[] = [];
  let cancel: (() => Promise<void>) | undefined;
  const write = (type: string, object: unknown) => {
    if (open) res.write(JSON.stringify({ type, object }) + '\n');
  };
  const bookmark = (annotations?: Record<string, string>) =>
    write('BOOKMARK', {
      kind: p.rt.kind,
      apiVersion: apiVersionOf(p.rt),
      metadata: { resourceVersion: String(lastRev), ...(annotations ? { annotations } : {}) },
    });
  const finish = () => {
    if (!open) return;
    open = false;
    timers.forEach(clearTimeout);
    void cancel?.().catch(() => undefined);
    res.end();
  };
  const plain = !p.labels.length && !p.fields.length && !p.table && !converting;
  const onEvent = (e: StorageEvent) => {
    lastRev = e.rev;
    if (plain) {
      // Every object matches: the stored bytes go out as they are (servedJson), unparsed.
      if (e.type !== 'DELETED' || e.hasPrev) {
        const type = e.type === 'MODIFIED' && !e.hasPrev ? 'ADDED' : e.type;
        const json = e.json();
        if (!json) write(type, renderStored(e.obj));
        else if (open) res.write(Buffer.concat([Buffer.from(`{"type":"${type}","object":`), json, EVENT_END]));
      }
      return;
    }
    const now = e.type === 'DELETED' ? false : match(e.obj);
    // Without selectors every object matches: whether there was one before is enough (the old one stays unparsed).
    const before = !p.labels.length && !p.fields.length ? e.hasPrev : match(e.prev);
    if (e.type === 'DELETED') {
      if (before) write('DELETED', renderStored(e.obj));
    } else if (now) write(before || e.type === 'ADDED' ? (e.type === 'ADDED' ? 'ADDED' : 'MODIFIED') : 'ADDED', renderStored(e.obj));
    else if (before) write('DELETED', renderStored(e.obj));
  };
  const onError = (err: unknown) => {
    const status = err instanceof KubeError ? err.toStatus() : KubeError.internal(String((err as Error)?.message ?? err)).toStatus();
    write('ERROR', status);
    finish();
  };

  try {
    cancel = await storage.store.watch(storage.collectionPrefix(p.rt, p.rt.namespaced ? p.namespace : undefined), startRev, onEvent, onError);
  } catch (err) {
    if (!(err instanceof KubeError) || err.code !== 410) throw err;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    write('ERROR', err.toStatus());
    open = false;
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  for (const o of initial) write('ADDED', render(o));
  if (p.sendInitialEvents && p.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  if (p.allowBookmarks) {
    const tick = () => {
      bookmark();
      timers.push(setTimeout(tick, p.bookmarkIntervalMs));
    };
    timers.push(setTimeout(tick, p.bookmarkIntervalMs));
  }
  timers.push(setTimeout(finish, p.timeoutSeconds * 1000));
  onClose(finish);
}
