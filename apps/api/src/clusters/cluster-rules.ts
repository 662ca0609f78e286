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
