import { createContext, ReactNode, useCallback, useContext, useEffect, useState } from 'react';
import { ArmRequestError, armGet } from './lib/arm';
import { formatDateTime, stateTone } from './lib/format';
import { ArmErrorDetail, Operation, TERMINAL } from './lib/model';

export function StateBadge({ state, label }: { state?: string; label?: string }) {
  return (
    <span className={`badge tone-${stateTone(state)}`} aria-label={label ? `${label}: ${state ?? 'unknown'}` : undefined}>
      {state ?? 'unknown'}
    </span>
  );
}

export function Progress({ value, label }: { value?: number; label: string }) {
  const v = Math.max(0, Math.min(100, value ?? 0));
  return (
    <span className="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={v}>
      <span className="progress-fill" style={{ width: `${v}%` }} />
      <span className="progress-text">{v}%</span>
    </span>
  );
}

export function Time({ iso }: { iso?: string }) {
  return iso ? <time dateTime={iso}>{formatDateTime(iso)}</time> : <span>—</span>;
}

export function ErrorBox({ error, title = 'Error' }: { error: ArmErrorDetail | Error; title?: string }) {
  const arm = error instanceof ArmRequestError ? error.error : error instanceof Error ? undefined : error;
  return (
    <div role="alert" className="error-box">
      <strong>{title}</strong>
      {arm ? (
        <>
          <p>
            <code>{arm.code}</code>: {arm.message}
            {arm.target ? (
              <>
                {' '}
                (target <code>{arm.target}</code>)
              </>
            ) : null}
          </p>
          <details>
            <summary>Full ARM error</summary>
            <pre>{JSON.stringify({ error: arm }, null, 2)}</pre>
          </details>
        </>
      ) : (
        <p>{(error as Error).message}</p>
      )}
    </div>
  );
}

/** Operations started from this tab, watched to the end (the Activity panel). */
interface Tracked {
  key: string;
  label: string;
  url: string;
  op?: Operation;
  failure?: string;
}

const ActivityContext = createContext<{ track: (label: string, url: string | undefined) => void; version: number }>({ track: () => undefined, version: 0 });
export const useActivity = () => useContext(ActivityContext);

export function ActivityProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<Tracked[]>([]);
  const [version, setVersion] = useState(0);
  const track = useCallback((label: string, url: string | undefined) => {
    setVersion((v) => v + 1);
    if (url) setItems((xs) => [{ key: `${Date.now()}-${url}`, label, url }, ...xs].slice(0, 8));
  }, []);
  const update = useCallback((key: string, patch: Partial<Tracked>) => {
    setItems((xs) => xs.map((x) => (x.key === key ? { ...x, ...patch } : x)));
    if (patch.op && TERMINAL.includes(patch.op.status)) setVersion((v) => v + 1);
  }, []);
  return (
    <ActivityContext.Provider value={{ track, version }}>
      {children}
      {items.length > 0 && (
        <aside className="activity" aria-labelledby="activity-heading">
          <h2 id="activity-heading">Activity</h2>
          <button className="clear" onClick={() => setItems((xs) => xs.filter((x) => !x.op || !TERMINAL.includes(x.op.status)))}>
            Clear finished
          </button>
          <ul>
            {items.map((t) => (
              <ActivityItem key={t.key} item={t} update={update} />
            ))}
          </ul>
        </aside>
      )}
    </ActivityContext.Provider>
  );
}

function ActivityItem({ item, update }: { item: Tracked; update: (key: string, patch: Partial<Tracked>) => void }) {
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        const r = await armGet<Operation>(item.url);
        if (stop) return;
        update(item.key, { op: r.body, failure: undefined });
        if (TERMINAL.includes(r.body.status)) return;
        // Retry-After (R11.7) paces the poll.
        timer = setTimeout(() => void tick(), Math.max(500, (r.retryAfter ?? 2) * 1000));
      } catch (err) {
        if (stop) return;
        // A failed read says nothing about the operation (R11.1): show it and keep watching.
        update(item.key, { failure: `Could not read the operation status: ${err instanceof Error ? err.message : String(err)}` });
        timer = setTimeout(() => void tick(), 3000);
      }
    };
    void tick();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [item.key, item.url, update]);
  const op = item.op;
  return (
    <li aria-label={`${item.label} operation`}>
      <span className="activity-label">{item.label}</span> <StateBadge state={op?.status ?? 'InProgress'} label="Operation status" />{' '}
      <Progress value={op?.percentComplete} label={`${item.label} progress`} />
      {op?.error ? <ErrorBox error={op.error} title="Operation failed" /> : null}
      {item.failure ? <span role="alert">{item.failure}</span> : null}
    </li>
  );
}
