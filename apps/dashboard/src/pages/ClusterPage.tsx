import { FormEvent, useEffect, useState } from 'react';
import { ErrorBox, Progress, StateBadge, Time, useActivity } from '../components';
import { Accepted } from '../lib/arm';
import { clusterAction, deleteCluster, scalePool, upgradeCluster, upgradeProfile } from '../lib/actions';
import { formatAge, kindLabel, operationDuration } from '../lib/format';
import { Cluster, Machine, Operation, Pool, UpgradeProfile } from '../lib/model';
import { usePoll } from '../lib/poll';
import { getCluster, listMachines, listPools, newestOperations } from '../lib/queries';
import { operationsHref } from '../routes';

interface ClusterModel {
  cluster: Cluster;
  pools: { pool: Pool; machines: Machine[] }[];
  operations: Operation[];
}

async function loadCluster(id: string): Promise<ClusterModel> {
  const cluster = await getCluster(id);
  const sub = id.split('/')[2];
  const [pools, operations] = await Promise.all([listPools(id), newestOperations(sub, cluster.location, { resourceId: id }, 50)]);
  const withMachines = await Promise.all(pools.map(async (pool) => ({ pool, machines: await listMachines(pool.id).catch(() => [] as Machine[]) })));
  return { cluster, pools: withMachines, operations };
}

export function ClusterPage({ clusterId }: { clusterId: string }) {
  const activity = useActivity();
  const { data, error, refresh } = usePoll(async () => ({ value: await loadCluster(clusterId) }), [clusterId, activity.version]);
  const [actionError, setActionError] = useState<Error>();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const act = async (label: string, fn: () => Promise<Accepted>) => {
    setActionError(undefined);
    try {
      const r = await fn();
      activity.track(label, r.operationUrl);
      refresh();
    } catch (err) {
      setActionError(err instanceof Error ? err : new Error(String(err)));
    }
  };

  const name = clusterId.split('/').pop() ?? clusterId;
  if (!data) {
    return (
      <main>
        <h1>Cluster {name}</h1>
        {error ? <ErrorBox error={error} title="Could not read the cluster" /> : <p role="status">Loading…</p>}
      </main>
    );
  }
  const { cluster, pools, operations } = data;
  const running = operations.find((o) => o.status === 'InProgress' && o.kind !== 'cluster.abort');
  const power = cluster.properties.powerState?.code;
  return (
    <main>
      <h1>Cluster {cluster.name}</h1>
      {error && <ErrorBox error={error} title="Could not refresh" />}
      <dl className="facts">
        <dt>Provisioning state</dt>
        <dd>
          <StateBadge state={cluster.properties.provisioningState} label="Cluster provisioning state" />
        </dd>
        <dt>Power state</dt>
        <dd>
          <StateBadge state={power} label="Cluster power state" />
        </dd>
        <dt>Kubernetes</dt>
        <dd>{cluster.properties.currentKubernetesVersion ?? cluster.properties.kubernetesVersion}</dd>
        <dt>Location</dt>
        <dd>{cluster.location}</dd>
        <dt>API server</dt>
        <dd>{cluster.properties.fqdn}</dd>
      </dl>
      {cluster.properties.status?.provisioningError && <ErrorBox error={cluster.properties.status.provisioningError} title="Provisioning error" />}

      <section aria-labelledby="actions-heading">
        <h2 id="actions-heading">Actions</h2>
        {actionError && <ErrorBox error={actionError} title="The action was refused" />}
        <div className="actions">
          {power === 'Stopped' ? (
            <button onClick={() => void act(`Start ${cluster.name}`, () => clusterAction(cluster.id, 'start'))}>Start cluster</button>
          ) : (
            <button onClick={() => void act(`Stop ${cluster.name}`, () => clusterAction(cluster.id, 'stop'))}>Stop cluster</button>
          )}
          <button disabled={!running} onClick={() => void act(`Abort on ${cluster.name}`, () => clusterAction(cluster.id, 'abort'))}>
            Abort running operation
          </button>
          <UpgradeForm cluster={cluster} onUpgrade={(v) => void act(`Upgrade ${cluster.name} to ${v}`, () => upgradeCluster(cluster.id, v))} />
          <DeleteButton name={cluster.name} onDelete={() => void act(`Delete ${cluster.name}`, () => deleteCluster(cluster.id))} />
        </div>
      </section>

      <section aria-labelledby="pools-heading">
        <h2 id="pools-heading">Agent pools</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Pool</th>
              <th scope="col">Mode</th>
              <th scope="col">VM size</th>
              <th scope="col">Count</th>
              <th scope="col">Version</th>
              <th scope="col">Node image</th>
              <th scope="col">Zones</th>
              <th scope="col">Power</th>
              <th scope="col">Provisioning</th>
              <th scope="col">Scale</th>
            </tr>
          </thead>
          <tbody>
            {pools.map(({ pool }) => (
              <tr key={pool.id} aria-label={`Pool ${pool.name}`}>
                <th scope="row">{pool.name}</th>
                <td>{pool.properties.mode}</td>
                <td>{pool.properties.vmSize}</td>
                <td>{pool.properties.count}</td>
                <td>{pool.properties.currentOrchestratorVersion ?? pool.properties.orchestratorVersion}</td>
                <td>{pool.properties.nodeImageVersion}</td>
                <td>{pool.properties.availabilityZones?.join(', ') || '—'}</td>
                <td>
                  <StateBadge state={pool.properties.powerState?.code} label={`Pool ${pool.name} power state`} />
                </td>
                <td>
                  <StateBadge state={pool.properties.provisioningState} label={`Pool ${pool.name} provisioning state`} />
                </td>
                <td>
                  <ScaleForm pool={pool} onScale={(n) => void act(`Scale ${pool.name} to ${n}`, () => scalePool(pool.id, n))} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {pools.map(({ pool, machines }) => (
        <section key={pool.id} aria-labelledby={`nodes-${pool.name}`}>
          <h2 id={`nodes-${pool.name}`}>Nodes of pool {pool.name}</h2>
          {machines.length === 0 ? (
            <p className="muted">No nodes running{power === 'Stopped' ? ' (the cluster is stopped)' : ''}.</p>
          ) : (
            <table aria-label={`Nodes of pool ${pool.name}`}>
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Zone</th>
                  <th scope="col">Address</th>
                  <th scope="col">Ready</th>
                  <th scope="col">Kubelet</th>
                  <th scope="col">Node image</th>
                  <th scope="col">Age</th>
                  <th scope="col">Last heartbeat</th>
                </tr>
              </thead>
              <tbody>
                {machines.map((m) => (
                  <tr key={m.id}>
                    <th scope="row">{m.name}</th>
                    <td>{m.properties.nodeStatus.zone}</td>
                    <td>{m.properties.network?.ipAddresses?.map((a) => a.ip).join(', ')}</td>
                    <td>
                      <StateBadge state={m.properties.nodeStatus.ready === 'True' ? 'Ready' : 'NotReady'} />
                    </td>
                    <td>{m.properties.nodeStatus.kubeletVersion}</td>
                    <td>{m.properties.nodeStatus.nodeImageVersion}</td>
                    <td>{formatAge(m.properties.nodeStatus.createdTime, now)}</td>
                    <td>
                      <Time iso={m.properties.nodeStatus.lastHeartbeatTime} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      ))}

      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Operations</h2>
        <p>
          <a href={operationsHref({ resourceId: cluster.id })}>All operations of this cluster</a>
        </p>
        <ol className="timeline" aria-label="Operation timeline">
          {operations.map((op) => (
            <li key={op.id} aria-label={`${kindLabel(op.kind ?? '')} ${op.status}`}>
              <strong>{kindLabel(op.kind ?? '')}</strong> <StateBadge state={op.status} />{' '}
              <Progress value={op.percentComplete} label={`${kindLabel(op.kind ?? '')} progress`} />
              <div className="muted">
                started <Time iso={op.startTime} /> by {op.createdBy ?? 'unknown'} · {operationDuration(op, now)}
                {op.resourceId && op.resourceId !== cluster.id ? ` · ${op.resourceId.split('/').slice(-2).join(' ')}` : ''}
              </div>
              {op.error && <ErrorBox error={op.error} title={`${kindLabel(op.kind ?? '')} ${op.status.toLowerCase()}`} />}
            </li>
          ))}
        </ol>
      </section>
    </main>
  );
}

function ScaleForm({ pool, onScale }: { pool: Pool; onScale: (n: number) => void }) {
  const [count, setCount] = useState(String(pool.properties.count));
  return (
    <form
      className="inline"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onScale(Number(count));
      }}
    >
      <label>
        <span className="sr-only">Node count for pool {pool.name}</span>
        <input type="number" min={0} max={1000} value={count} onChange={(e) => setCount(e.target.value)} aria-label={`Node count for pool ${pool.name}`} />
      </label>
      <button type="submit">Scale {pool.name}</button>
    </form>
  );
}

function UpgradeForm({ cluster, onUpgrade }: { cluster: Cluster; onUpgrade: (v: string) => void }) {
  const [profile, setProfile] = useState<UpgradeProfile>();
  const [version, setVersion] = useState('');
  useEffect(() => {
    upgradeProfile(cluster.id)
      .then(setProfile)
      .catch(() => setProfile(undefined));
  }, [cluster.id, cluster.properties.currentKubernetesVersion]);
  const upgrades = profile?.properties.controlPlaneProfile.upgrades ?? [];
  return (
    <form
      className="inline"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        if (version) onUpgrade(version);
      }}
    >
      <label>
        Upgrade to
        <select value={version} onChange={(e) => setVersion(e.target.value)}>
          <option value="">{upgrades.length ? 'choose a version' : 'no upgrades available'}</option>
          {upgrades.map((u) => (
            <option key={u.kubernetesVersion} value={u.kubernetesVersion}>
              {u.kubernetesVersion}
              {u.isPreview ? ' (preview)' : ''}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={!version}>
        Upgrade
      </button>
    </form>
  );
}

function DeleteButton({ name, onDelete }: { name: string; onDelete: () => void }) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button className="danger" onClick={() => setAsking(true)}>
        Delete cluster
      </button>
    );
  return (
    <div role="alertdialog" aria-labelledby="confirm-delete" className="confirm">
      <p id="confirm-delete">Delete managed cluster {name} and all its nodes?</p>
      <button
        className="danger"
        onClick={() => {
          setAsking(false);
          onDelete();
        }}
      >
        Yes, delete {name}
      </button>
      <button onClick={() => setAsking(false)}>Cancel</button>
    </div>
  );
}
