import { ErrorBox, Progress, StateBadge } from '../components';
import { kindLabel } from '../lib/format';
import { usePoll } from '../lib/poll';
import { loadOverview } from '../lib/queries';
import { clusterHref } from '../routes';

export function Overview() {
  const { data, error } = usePoll(async () => ({ value: await loadOverview() }), []);
  return (
    <main>
      <h1>Overview</h1>
      {error && <ErrorBox error={error} title="Could not read the platform" />}
      {!data && !error && <p role="status">Loading…</p>}
      {data?.subscriptions.map(({ subscription, groups }) => (
        <section key={subscription.subscriptionId} aria-labelledby={`sub-${subscription.subscriptionId}`}>
          <h2 id={`sub-${subscription.subscriptionId}`}>
            Subscription {subscription.displayName} <span className="muted">({subscription.subscriptionId})</span>
          </h2>
          {groups.length === 0 && <p>No resource groups.</p>}
          {groups.map(({ group, clusters }) => (
            <section key={group.id} aria-label={`Resource group ${group.name}`} className="group">
              <h3>
                Resource group {group.name} <span className="muted">{group.location}</span>
              </h3>
              {clusters.length === 0 ? (
                <p className="muted">No managed clusters.</p>
              ) : (
                <table>
                  <caption className="sr-only">Managed clusters in {group.name}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Cluster</th>
                      <th scope="col">Provisioning state</th>
                      <th scope="col">Power state</th>
                      <th scope="col">Kubernetes</th>
                      <th scope="col">Nodes Ready/total</th>
                      <th scope="col">Running operation</th>
                    </tr>
                  </thead>
                  <tbody>
                    {clusters.map(({ cluster, nodes, running }) => (
                      <tr key={cluster.id} aria-label={`Cluster ${cluster.name}`}>
                        <th scope="row">
                          <a href={clusterHref(cluster.id)}>{cluster.name}</a>
                        </th>
                        <td>
                          <StateBadge state={cluster.properties.provisioningState} label="Provisioning state" />
                        </td>
                        <td>
                          <StateBadge state={cluster.properties.powerState?.code} label="Power state" />
                        </td>
                        <td>{cluster.properties.currentKubernetesVersion ?? cluster.properties.kubernetesVersion}</td>
                        <td>
                          {nodes.ready}/{nodes.total}
                        </td>
                        <td>
                          {running ? (
                            <>
                              {kindLabel(running.kind ?? '')} <Progress value={running.percentComplete} label={`${cluster.name} operation progress`} />
                            </>
                          ) : (
                            <span className="muted">none</span>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          ))}
        </section>
      ))}
    </main>
  );
}
