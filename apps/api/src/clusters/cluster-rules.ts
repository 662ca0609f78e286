import { createHash } from 'node:crypto';
import { ArmError } from '@cerulean/arm';
import { KubernetesVersionCatalog } from '@cerulean/catalog';
import { AgentPoolEntity, PowerStateCode, ProvisioningState } from '@cerulean/domain';
import { poolPatch } from './version-rules';

const versions = new KubernetesVersionCatalog();

/** The provisioningState a pool shows while a change runs (AKS's words). */
export function poolChangeState(pool: AgentPoolEntity, next: { count: number; orchestratorVersion: string; powerState: string }): ProvisioningState {
  if (next.powerState !== pool.powerState) return next.powerState === PowerStateCode.Stopped ? ProvisioningState.Stopping : ProvisioningState.Starting;
  if (versions.resolve(next.orchestratorVersion) !== poolPatch(pool)) return ProvisioningState.Upgrading;
  if (next.count !== pool.count) return ProvisioningState.Scaling;
  return ProvisioningState.Updating;
}

/** AKS refuses scale and upgrade while the cluster is stopped. */
export function stoppedClusterRefuses(clusterName: string, what: string): ArmError {
  return ArmError.badRequest(
    'OperationNotAllowed',
    `Unable to perform '${what}' operation since managed cluster '${clusterName}' is stopped. Start the cluster first.`,
  );
}

/**
 * Why a stop or start of `cluster` is refused (409), if it is: the cluster is already in the target power state. A
 * start or stop that failed is taken again, since it may have left the cluster anywhere between the two states (a
 * failed start shows Failed and Running, as on AKS).
 */
export function powerChangeRefusal(cluster: { name: string; powerState: string; provisioningState: string }, target: PowerStateCode): ArmError | undefined {
  if (cluster.powerState !== target || cluster.provisioningState === ProvisioningState.Failed) return undefined;
  const verb = target === PowerStateCode.Stopped ? 'stop' : 'start';
  return ArmError.conflict('OperationNotAllowed', `Unable to ${verb} managed cluster '${cluster.name}': its power state is already ${cluster.powerState}.`);
}

export function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** As `az aks create` derives it: `{name[:10]}-{rg[:16]}-{sub[:6]}`, letters/digits/hyphens only. */
export function defaultDnsPrefix(cluster: string, rg: string, sub: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9-]/g, '');
  let prefix = `${clean(cluster).slice(0, 10)}-${clean(rg).slice(0, 16)}-${sub.slice(0, 6)}`.replace(/--+/g, '-');
  if (!/^[A-Za-z]/.test(prefix)) prefix = `a${prefix}`;
  return prefix.replace(/-+$/, '').slice(0, 54);
}
