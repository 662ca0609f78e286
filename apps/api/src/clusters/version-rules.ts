import { ArmError } from '@cerulean/arm';
import { KubernetesVersionCatalog, parseKubernetesVersion } from '@cerulean/catalog';
import { AgentPoolEntity, ManagedClusterEntity } from '@cerulean/domain';

const versions = new KubernetesVersionCatalog();
const SUPPORTED = 'Please see https://aka.ms/aks-supported-k8s-ver for version details.';

/** The patch the control plane runs (during an upgrade, the old one until it has moved). */
export const controlPlanePatch = (c: ManagedClusterEntity): string =>
  c.currentKubernetesVersion ?? versions.resolve(c.kubernetesVersion) ?? c.kubernetesVersion;
/** The patch a pool's nodes run (during an upgrade, the old one until the pool has rolled). */
export const poolPatch = (p: AgentPoolEntity): string => p.currentOrchestratorVersion ?? versions.resolve(p.orchestratorVersion) ?? p.orchestratorVersion;

/**
 * The control plane or a pool moving from `from` to `to` (concrete patches): a newer patch, or the next
 * minor. A downgrade or a skipped minor is 400 OperationNotAllowed with AKS's wording.
 */
export function assertUpgradeAllowed(from: string, to: string, target: string): void {
  const verdict = versions.upgradeVerdict(from, to);
  if (verdict === 'same' || verdict === 'upgrade') return;
  const available = versions.upgradesFrom(from).reverse().join(' ');
  const verb = verdict === 'downgrade' ? 'Downgrading' : 'Upgrading';
  throw ArmError.badRequest(
    'OperationNotAllowed',
    `${verb} Kubernetes version ${from} to ${to} is not allowed. Available upgrades: [${available}]. ${SUPPORTED}`,
    target,
  );
}

/** A pool is never newer than its control plane (AKS: NodePoolMcVersionIncompatible). */
export function assertPoolNotNewer(poolVersion: string, controlPlaneVersion: string, target: string): void {
  const pool = parseKubernetesVersion(poolVersion);
  const cp = parseKubernetesVersion(controlPlaneVersion);
  if (!pool || !cp) return;
  const newerMinor = pool.major > cp.major || (pool.major === cp.major && pool.minor > cp.minor);
  const newerPatch = pool.major === cp.major && pool.minor === cp.minor && (pool.patch ?? 0) > (cp.patch ?? 0);
  if (!newerMinor && !newerPatch) return;
  const why = newerMinor
    ? `Minor version of node pool version ${pool.minor} is bigger than control plane version ${cp.minor}.`
    : `Patch version of node pool version ${pool.patch} is bigger than control plane version ${cp.patch}.`;
  throw ArmError.badRequest(
    'NodePoolMcVersionIncompatible',
    `Node pool version ${poolVersion} and control plane version ${controlPlaneVersion} are incompatible. ${why} ` +
      'For more information, please check https://aka.ms/version-skew-policy',
    target,
  );
}
