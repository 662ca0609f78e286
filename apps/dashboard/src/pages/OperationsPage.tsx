import { FormEvent, useEffect, useState } from 'react';
import { ErrorBox, Progress, StateBadge, Time } from '../components';
import { kindLabel, OPERATION_KINDS, operationDuration, operationQuery, OperationFilters } from '../lib/format';
import { Operation } from '../lib/model';
import { usePoll } from '../lib/poll';
import { listClusters, listLocations, listSubscriptions, newestOperations } from '../lib/queries';
import { clusterHref } from '../routes';

const PAGE = 200;

/** Every operation of every subscription and location the caller can see, newest first, filtered on the server. */
async function loadOperations(filters: OperationFilters): Promise<{ ops: Operation[]; clusters: { id: string; name: string }[] }> {
  const subs = await listSubscriptions();
  const query = operationQuery(filters);
  const ops: Operation[] = [];
  const clusters: { id: string; name: string }[] = [];
  for (const s of subs) {
    const [locations, cs] = await Promise.all([listLocations(s.subscriptionId), listClusters(s.subscriptionId)]);
    clusters.push(...cs.map((c) => ({ id: c.id, name: c.name })));
    const lists = await Promise.all(locations.map((l) => newestOperations(s.subscriptionId, l.name, query, PAGE)));
    ops.push(...lists.flat());
  }
  ops.sort((a, b) => b.startTime.localeCompare(a.startTime));
  return { ops: ops.slice(0, PAGE), clusters };
}

export function OperationsPage({ initial }: { initial: Record<string, string> }) {
  const [filters, setFilters] = useState<OperationFilters>(initial);
  const [draft, setDraft] = useState<OperationFilters>(initial);
  const [open, setOpen] = useState<string>();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const key = JSON.stringify(filters);
  const { data, error } = usePoll(async () => ({ value: await loadOperations(filters) }), [key]);
  const field = (k: keyof OperationFilters) => ({
    value: draft[k] ?? '',
    onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value }),
  });

  return (
    <main>
      <h1>Operations</h1>
      <form
        className="filters"
        aria-label="Filter operations"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        <label>
          Status
          <select {...field('status')}>
            <option value="">any</option>
            {['InProgress', 'Succeeded', 'Failed', 'Canceled'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select {...field('kind')}>
            <option value="">any</option>
            {OPERATION_KINDS.map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Cluster
          <select {...field('resourceId')}>
            <option value="">any</option>
            {data?.clusters.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
            {draft.resourceId && !data?.clusters.some((c) => c.id === draft.resourceId) && (
              <option value={draft.resourceId}>{draft.resourceId.split('/').pop()}</option>
            )}
          </select>
        </label>
        <label>
          Started after
          <input type="datetime-local" {...field('startedAfter')} />
        </label>
        <label>
          Started before
          <input type="datetime-local" {...field('startedBefore')} />
        </label>
        <button type="submit">Apply filters</button>
      </form>
      {error && <ErrorBox error={error} title="Could not read the operations" />}
      {!data && !error && <p role="status">Loading…</p>}
      {data && (
        <table aria-label="Operations">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Resource</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Started by</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {data.ops.length === 0 && (
              <tr>
                <td colSpan={8}>No operations match.</td>
              </tr>
            )}
            {data.ops.map((op) => {
              const target = op.resourceId ?? '';
              const clusterId = target.replace(/\/agentPools\/.*$/i, '');
              return [
                <tr key={op.id} aria-label={`Operation ${op.name}`}>
                  <th scope="row">{kindLabel(op.kind ?? '')}</th>
                  <td>
                    {/managedClusters\//i.test(clusterId) ? (
                      <a href={clusterHref(clusterId)}>{target.split('/').slice(8).join('/')}</a>
                    ) : (
                      target.split('/').pop()
                    )}
                  </td>
                  <td>
                    <StateBadge state={op.status} label="Status" />
                  </td>
                  <td>
                    <Progress value={op.percentComplete} label={`Operation ${op.name} progress`} />
                  </td>
                  <td>
                    <Time iso={op.startTime} />
                  </td>
                  <td>{operationDuration(op, now)}</td>
                  <td>{op.createdBy ?? '—'}</td>
                  <td>
                    {op.error ? (
                      <button aria-expanded={open === op.id} onClick={() => setOpen(open === op.id ? undefined : op.id)}>
                        {open === op.id ? 'Hide error' : 'Show error'}
                      </button>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>,
                open === op.id && op.error ? (
                  <tr key={`${op.id}-error`}>
                    <td colSpan={8}>
                      <ErrorBox error={op.error} title={`Operation ${op.name} ${op.status.toLowerCase()}`} />
                    </td>
                  </tr>
                ) : null,
              ];
            })}
          </tbody>
        </table>
      )}
    </main>
  );
}
