import { catchArmError } from '../../../../test-support/catch-arm-error';
import { assertPoolNotNewer, assertUpgradeAllowed } from './version-rules';

describe('assertUpgradeAllowed', () => {
  it('allows the same version, newer patches and the next minor', () => {
    for (const [from, to] of [
      ['1.32.7', '1.32.7'],
      ['1.32.5', '1.32.7'],
      ['1.32.7', '1.33.2'],
      ['1.32.5', '1.33.4'],
    ]) {
      expect(() => assertUpgradeAllowed(from, to, 't')).not.toThrow();
    }
  });

  it('refuses a skipped minor with AKS code, wording and the available upgrades', () => {
    const err = catchArmError(() => assertUpgradeAllowed('1.31.11', '1.33.4', 'properties.kubernetesVersion'));
    expect(err).toMatchObject({ status: 400, code: 'OperationNotAllowed', target: 'properties.kubernetesVersion' });
    expect(err.message).toBe(
      'Upgrading Kubernetes version 1.31.11 to 1.33.4 is not allowed. Available upgrades: [1.32.7 1.32.5]. Please see https://aka.ms/aks-supported-k8s-ver for version details.',
    );
  });

  it('refuses a downgrade, patch or minor', () => {
    expect(catchArmError(() => assertUpgradeAllowed('1.33.4', '1.33.2', 't')).message).toMatch(
      /^Downgrading Kubernetes version 1.33.4 to 1.33.2 is not allowed/,
    );
    expect(catchArmError(() => assertUpgradeAllowed('1.33.2', '1.32.7', 't')).code).toBe('OperationNotAllowed');
  });
});

describe('assertPoolNotNewer', () => {
  it('allows a pool at or behind its control plane', () => {
    expect(() => assertPoolNotNewer('1.33.4', '1.33.4', 't')).not.toThrow();
    expect(() => assertPoolNotNewer('1.31.9', '1.33.4', 't')).not.toThrow();
  });

  it('refuses a newer minor or patch as NodePoolMcVersionIncompatible', () => {
    const minor = catchArmError(() => assertPoolNotNewer('1.34.1', '1.33.4', 'properties.orchestratorVersion'));
    expect(minor).toMatchObject({ status: 400, code: 'NodePoolMcVersionIncompatible', target: 'properties.orchestratorVersion' });
    expect(minor.message).toContain('Minor version of node pool version 34 is bigger than control plane version 33.');
    expect(catchArmError(() => assertPoolNotNewer('1.33.4', '1.33.2', 't')).message).toContain(
      'Patch version of node pool version 4 is bigger than control plane version 2.',
    );
  });
});
