import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InMemoryTemplateHost, Json, evaluateOutputs, processTemplate, resolveResource } from '@cerulean/templates';

const golden = (file: string): Json => JSON.parse(readFileSync(join(__dirname, 'golden', file), 'utf8')) as Json;
const context = {
  subscriptionId: '00000000-0000-0000-0000-000000000001',
  tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  resourceGroup: { name: 'rg1', location: 'westeurope' },
  deploymentName: 'aks',
};

describe('smoke', () => {
  it('runs', async () => {
    const plan = processTemplate(golden('aks-quickstart.azuredeploy.json'), { dnsPrefix: { value: 'dns' }, linuxAdminUsername: { value: 'azureuser' }, sshRSAPublicKey: { value: 'ssh-rsa AAA' } }, context);
    console.log(JSON.stringify(plan.resources, null, 1), plan.waves);
    const host = new InMemoryTemplateHost({ [plan.resources[0]!.id]: { properties: { fqdn: 'dns-123.hcp.westeurope.azmk8s.io' } } });
    console.log(await resolveResource(plan, plan.resources[0]!.id, host));
    console.log(await evaluateOutputs(plan, host));
  });
});
