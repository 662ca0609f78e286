import { nodeName, parseNodeIndex, planPool, zoneFor } from './node-plan';

const names = (...indices: number[]) => indices.map((i) => nodeName('np1', '12345678', i));

describe('node planning', () => {
  it('names nodes as AKS names VMSS instances, in base 36', () => {
    expect(nodeName('nodepool1', '12345678', 0)).toBe('aks-nodepool1-12345678-vmss000000');
    expect(nodeName('nodepool1', '12345678', 10)).toBe('aks-nodepool1-12345678-vmss00000a');
    expect(nodeName('nodepool1', '12345678', 36)).toBe('aks-nodepool1-12345678-vmss000010');
  });

  it('parses back only its own pool instances', () => {
    expect(parseNodeIndex('aks-np1-12345678-vmss00000a', 'np1', '12345678')).toBe(10);
    expect(parseNodeIndex('aks-np1-87654321-vmss000000', 'np1', '12345678')).toBeUndefined();
    expect(parseNodeIndex('aks-np10-12345678-vmss000000', 'np1', '12345678')).toBeUndefined();
  });

  it('leaves reserved (quarantined) nodes out of the count and never reuses their indices', () => {
    // 0 is quarantined; 2 and 3 replaced 0 and 1 in an upgrade: the pool of 2 is complete.
    expect(planPool('np1', '12345678', 2, names(0, 2, 3), names(0))).toEqual({ keep: [2, 3], create: [], remove: [] });
    // One short: the new node skips the reserved index 0.
    expect(planPool('np1', '12345678', 3, names(0, 2, 3), names(0))).toEqual({ keep: [2, 3], create: [1], remove: [] });
    expect(planPool('np1', '12345678', 2, names(0), names(0))).toEqual({ keep: [], create: [1, 2], remove: [] });
    // A scale-in removes members, never the reserved node.
    expect(planPool('np1', '12345678', 1, names(0, 2, 3), names(0))).toEqual({ keep: [2], create: [], remove: names(3) });
  });

  it('creates every node of a new pool', () => {
    expect(planPool('np1', '12345678', 3, [])).toEqual({ keep: [], create: [0, 1, 2], remove: [] });
  });

  it('only creates what is missing after a crash half-way', () => {
    expect(planPool('np1', '12345678', 4, names(0, 2))).toEqual({ keep: [0, 2], create: [1, 3], remove: [] });
  });

  it('does nothing when the pool already matches', () => {
    expect(planPool('np1', '12345678', 2, names(1, 0))).toEqual({ keep: [0, 1], create: [], remove: [] });
  });

  it('removes the highest-numbered instances first on scale-in', () => {
    expect(planPool('np1', '12345678', 1, names(0, 1, 2))).toEqual({ keep: [0], create: [], remove: names(2, 1) });
  });

  it('removes the chosen machines (deleteMachines) before the highest-numbered ones, and keeps the others as they are', () => {
    // 3 nodes, machine 0 deleted: count 2, nodes 1 and 2 stay.
    expect(planPool('np1', '12345678', 2, names(0, 1, 2), [], names(0))).toEqual({ keep: [1, 2], create: [], remove: names(0) });
    // Two chosen, the count shrank by two.
    expect(planPool('np1', '12345678', 1, names(0, 1, 2), [], names(2, 0))).toEqual({ keep: [1], create: [], remove: names(0, 2) });
    // The count shrank further than the machines chosen: the chosen first, then the usual choice.
    expect(planPool('np1', '12345678', 1, names(0, 1, 2), [], names(1))).toEqual({ keep: [0], create: [], remove: names(1, 2) });
  });

  it('re-plans a half-done deleteMachines without touching what stays', () => {
    // The chosen node is gone already (a worker died after removing it): nothing more to do, no node made again.
    expect(planPool('np1', '12345678', 1, names(1), [], names(0))).toEqual({ keep: [1], create: [], remove: [] });
    // A chosen node the count wants again (a scale-up after a failed delete) stays: the plan never drops below the count.
    expect(planPool('np1', '12345678', 2, names(0, 1), [], names(0))).toEqual({ keep: [0, 1], create: [], remove: [] });
    // A chosen name that is no member (quarantined) is not the one removed for the surplus.
    expect(planPool('np1', '12345678', 1, names(0, 2, 3), names(0), names(0))).toEqual({ keep: [2], create: [], remove: names(3) });
  });

  it('removes everything for a count of 0, and strays that are not instances of the pool', () => {
    const plan = planPool('np1', '12345678', 0, [...names(0), 'aks-np1-99999999-vmss000000']);
    expect(plan).toEqual({ keep: [], create: [], remove: [...names(0), 'aks-np1-99999999-vmss000000'] });
  });

  it('spreads instances over the pool zones in turn', () => {
    expect([0, 1, 2, 3].map((i) => zoneFor(i, ['1', '2', '3']))).toEqual(['1', '2', '3', '1']);
    expect(zoneFor(5, [])).toBe('');
  });
});
