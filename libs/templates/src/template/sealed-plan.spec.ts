import { randomBytes } from 'node:crypto';
import { SecretBox } from '@cerulean/pki';
import { testContext } from '../../test/helpers';
import { processTemplate } from './processor';
import { openPlan, sealPlan } from './sealed-plan';

describe('sealed plans', () => {
  const SECRET = 'Plan-Secret-Value-42';
  const box = new SecretBox(randomBytes(32));
  const plan = processTemplate(
    {
      $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
      contentVersion: '1.0.0.0',
      parameters: { pwd: { type: 'securestring' } },
      variables: { v: "[concat('x-', parameters('pwd'))]" },
      resources: [{ type: 'Microsoft.Storage/storageAccounts', apiVersion: '2023-01-01', name: 'a', properties: { p: "[parameters('pwd')]" } }],
    },
    { pwd: { value: SECRET } },
    testContext(),
  );

  it('stores no plaintext of the plan, secure values included', () => {
    const stored = JSON.stringify(sealPlan(plan, box, 'd1'));
    expect(stored).not.toContain(SECRET);
    expect(stored).not.toContain('storageAccounts');
  });

  it('opens for the same deployment only', () => {
    const sealed = sealPlan(plan, box, 'd1');
    expect(openPlan(sealed, box, 'd1')).toEqual(plan);
    expect(() => openPlan(sealed, box, 'd2')).toThrow(/failed authentication/);
  });

  it('reads a plan stored before sealing as it is', () => {
    expect(openPlan(plan, box, 'd1')).toBe(plan);
  });
});
