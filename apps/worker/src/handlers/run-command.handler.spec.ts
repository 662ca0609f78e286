import { chooseCommandNode, commandWorkingDir } from './run-command.handler';

describe('chooseCommandNode', () => {
  it('offers running nodes of System pools only, in pool order then by name', () => {
    const sut = chooseCommandNode(
      ['system', 'sys2'],
      [
        { name: 'aks-user-1-vmss000000', pool: 'user', running: true },
        { name: 'aks-sys2-2-vmss000000', pool: 'sys2', running: true },
        { name: 'aks-system-3-vmss000001', pool: 'system', running: true },
        { name: 'aks-system-3-vmss000000', pool: 'system', running: false },
        { name: 'aks-system-3-vmss000002', pool: 'system', running: true },
      ],
    );
    expect(sut).toEqual(['aks-system-3-vmss000001', 'aks-system-3-vmss000002', 'aks-sys2-2-vmss000000']);
  });

  it('offers nothing when no System pool node runs', () => {
    expect(chooseCommandNode(['system'], [{ name: 'aks-user-1-vmss000000', pool: 'user', running: true }])).toEqual([]);
  });
});

describe('commandWorkingDir', () => {
  it('is a fresh directory under /tmp named after the command', () => {
    expect(commandWorkingDir('0e9872e6-6293-49dc-865e-27ee6f8bab2d')).toBe('/tmp/cerulean-command-0e9872e6629349dc865e27ee6f8bab2d');
  });
});
