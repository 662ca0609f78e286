import { COLORS, formatWhatIf, PLAIN, splitResourceId } from './what-if-format';

const RG = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1';
const CLUSTER = `${RG}/providers/Microsoft.ContainerService/managedClusters/aks1`;

describe('formatWhatIf', () => {
  it('prints the legend, the scope, a modified array element with before => after, and the totals', () => {
    const sut = formatWhatIf([
      {
        resourceId: CLUSTER,
        changeType: 'Modify',
        delta: [
          {
            path: 'properties.agentPoolProfiles',
            propertyChangeType: 'Array',
            children: [{ path: '0', propertyChangeType: 'Modify', children: [{ path: 'count', propertyChangeType: 'Modify', before: 1, after: 2 }] }],
          },
        ],
      },
      { resourceId: `${RG}/providers/Microsoft.ContainerService/managedClusters/aks2`, changeType: 'NoChange' },
    ]);

    expect(sut).toBe(
      [
        'Resource and property changes are indicated with these symbols:',
        '  ~ Modify',
        '  = NoChange',
        '',
        'The deployment will update the following scope:',
        '',
        `Scope: ${RG}`,
        '',
        '  ~ Microsoft.ContainerService/managedClusters/aks1',
        '',
        '    ~ properties.agentPoolProfiles: [',
        '      ~ 0:',
        '        ~ count: 1 => 2',
        '      ]',
        '',
        '  = Microsoft.ContainerService/managedClusters/aks2',
        '',
        'Resource changes: 1 to modify, 1 no change.',
      ].join('\n'),
    );
  });

  it('shows a created resource with its properties and a deleted one by name, in the legend order az uses', () => {
    const sut = formatWhatIf([
      { resourceId: CLUSTER, changeType: 'Create', after: { apiVersion: '2026-10-01', properties: { dnsPrefix: 'a', agentPoolProfiles: [{ count: 1 }] } } },
      { resourceId: `${RG}/providers/Microsoft.ContainerService/managedClusters/old`, changeType: 'Delete' },
    ]);

    expect(sut).toContain('  - Delete\n  + Create');
    expect(sut).toContain('  + Microsoft.ContainerService/managedClusters/aks1 [2026-10-01]');
    expect(sut).toContain('      dnsPrefix:                  "a"\n      agentPoolProfiles[0].count: 1\n');
    expect(sut).toContain('  - Microsoft.ContainerService/managedClusters/old');
    expect(sut).toMatch(/Resource changes: 1 to create, 1 to delete\.$/);
  });

  it('colours symbols by change type only when given a colour palette', () => {
    const changes = [{ resourceId: CLUSTER, changeType: 'Delete' as const }];

    expect(formatWhatIf(changes, PLAIN)).not.toContain('\u001b[');
    expect(formatWhatIf(changes, COLORS)).toContain('\u001b[38;5;208m- Microsoft.ContainerService/managedClusters/aks1\u001b[0m');
  });

  it('says so when there is nothing to change', () => {
    expect(formatWhatIf([])).toMatch(/No resource changes\.$/);
  });
});

describe('splitResourceId', () => {
  it('gives the scope and the type/name path of a child resource', () => {
    expect(splitResourceId(`${CLUSTER}/agentPools/np1`)).toEqual({ scope: RG, typeAndName: 'Microsoft.ContainerService/managedClusters/aks1/agentPools/np1' });
  });
});
