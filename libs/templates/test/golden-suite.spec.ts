import { AKS_WHAT_IF_RULES } from '@cerulean/catalog';
import { readdirSync } from 'node:fs';
import { ArmError } from '@cerulean/arm';
import {
  InMemoryTemplateHost,
  Json,
  JsonObject,
  TemplatePlan,
  WhatIfPropertyChange,
  armGuid,
  evaluateOutputs,
  processTemplate,
  uniqueString,
  whatIf,
} from '@cerulean/templates';
import { DeltaLeaf, GOLDEN_DIR, GOLDEN_SUITE, GoldenDeployable, GoldenError, GoldenFunctions, goldenParameters, goldenTemplate } from './golden-suite';
import { RG, SUBSCRIPTION, testContext } from './helpers';

/**
 * The golden suite, pure: every template processes (or fails with its exact code), function outputs equal their
 * known values, and a what-if against a live copy of what was asked for is all NoChange while one changed
 * parameter gives exactly the expected Modify. The same expectations run against the platform in
 * apps/api/test/golden-templates.e2e-spec.ts.
 */

const deployables = GOLDEN_SUITE.filter((c): c is GoldenDeployable => c.kind === 'deployable');
const functions = GOLDEN_SUITE.filter((c): c is GoldenFunctions => c.kind === 'functions');
const errors = GOLDEN_SUITE.filter((c): c is GoldenError => c.kind === 'error');

const plan = (file: string, overrides: JsonObject = {}, template: JsonObject = goldenTemplate(file)): TemplatePlan =>
  processTemplate(template, { ...goldenParameters(file), ...overrides }, testContext({ resourceGroup: { name: RG, location: 'eastus' } }));

/** What GET would answer if the platform stored the body as asked, plus the read-only fields it adds. */
function liveOf(p: TemplatePlan): Record<string, JsonObject> {
  const live: Record<string, JsonObject> = {};
  for (const r of p.resources.filter((x) => x.condition)) {
    const body = JSON.parse(JSON.stringify(r.body)) as JsonObject;
    const properties = { ...((body['properties'] as JsonObject | undefined) ?? {}), provisioningState: 'Succeeded' } as JsonObject;
    if (!r.type.endsWith('agentPools')) {
      Object.assign(properties, { fqdn: `${r.name}-dns.hcp.eastus.cerulean.local`, currentKubernetesVersion: '1.33.2' });
    }
    live[r.id] = { ...body, id: r.id, name: r.name.split('/').pop() as string, type: r.type, properties };
  }
  // A cluster's GET lists every pool in agentPoolProfiles, also those created as agentPools resources.
  for (const r of p.resources.filter((x) => x.condition && x.type.endsWith('agentPools'))) {
    const cluster = live[r.id.split('/agentPools/')[0] as string]?.['properties'] as JsonObject | undefined;
    const profiles = (cluster?.['agentPoolProfiles'] ?? []) as JsonObject[];
    profiles.push({ name: r.name.split('/').pop() as string, ...((live[r.id]?.['properties'] as JsonObject | undefined) ?? {}) });
    if (cluster) cluster['agentPoolProfiles'] = profiles;
  }
  return live;
}

/** Every leaf of a delta (array elements and nested objects flattened). */
const leaves = (delta: WhatIfPropertyChange[] = []): DeltaLeaf[] =>
  delta.flatMap((d) =>
    d.children?.length ? leaves(d.children) : [{ path: d.path, propertyChangeType: d.propertyChangeType, before: d.before as Json, after: d.after as Json }],
  );

describe('the golden suite', () => {
  it('holds at least 15 templates written for this project, each described here', () => {
    const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json') && !f.endsWith('.parameters.json') && !f.endsWith('.azuredeploy.json'));
    expect(files.sort()).toEqual(GOLDEN_SUITE.map((c) => c.file).sort());
    expect(GOLDEN_SUITE.length).toBeGreaterThanOrEqual(15);
  });
});

describe.each(deployables.map((c) => [c.file, c] as const))('golden deployable %s', (_file, c) => {
  it('processes with its parameters file into the clusters and pools it declares', () => {
    const p = plan(c.file);
    const clusters = p.resources.filter((r) => r.condition && r.type.endsWith('managedClusters')).map((r) => r.name);
    expect(clusters).toEqual(c.clusters);
  });

  it('evaluates its outputs through a template host', async () => {
    const p = plan(c.file);
    const live = liveOf(p);
    const lists: Record<string, Json> = {};
    for (const id of Object.keys(live)) {
      lists[`listClusterAdminCredential:${id}`] = { kubeconfigs: [{ name: 'clusterAdmin', value: 'YWRtaW4=' }] };
      lists[`listClusterUserCredential:${id}`] = { kubeconfigs: [{ name: 'clusterUser', value: 'dXNlcg==' }] };
    }
    const outputs = await evaluateOutputs(p, new InMemoryTemplateHost(live, lists));
    expect(Object.keys(outputs).sort()).toEqual(
      p.outputs
        .slice()
        .sort()
        .filter((o) => o in outputs),
    );
    if (c.outputs) expect(outputs).toMatchObject(c.outputs);
    if (c.needsListFunctions) {
      expect(outputs).toEqual({
        adminKubeconfigName: { type: 'String', value: 'clusterAdmin' },
        userKubeconfigName: { type: 'String', value: 'clusterUser' },
        adminKubeconfig: { type: 'SecureString' },
      });
    }
  });

  it('what-if against what it asked for is NoChange for every resource', () => {
    const p = plan(c.file);
    const changes = whatIf(p, liveOf(p), { normalizers: AKS_WHAT_IF_RULES });
    expect(changes.filter((x) => x.changeType !== 'NoChange')).toEqual([]);
  });

  it('one changed parameter gives exactly the expected Modify', () => {
    const live = liveOf(plan(c.file));
    const changes = whatIf(plan(c.file, c.change.parameters), live, { normalizers: AKS_WHAT_IF_RULES });
    const modified = changes.filter((x) => x.changeType !== 'NoChange');
    expect(modified.map((m) => m.changeType)).toEqual(Object.keys(c.change.modify).map(() => 'Modify'));
    const byName = Object.fromEntries(modified.map((m) => [m.resourceId.split('/managedClusters/')[1]?.replace('/agentPools/', '/'), leaves(m.delta)]));
    expect(byName).toEqual(c.change.modify);
  });

  it('Complete mode without the removed resources deletes exactly the expected clusters', () => {
    const p = plan(c.file);
    const live = liveOf(p);
    const next = plan(c.file, c.complete.parameters ?? {}, c.complete.template ? c.complete.template(goldenTemplate(c.file)) : goldenTemplate(c.file));
    const changes = whatIf(next, live, { mode: 'Complete', normalizers: AKS_WHAT_IF_RULES });
    const deleted = changes.filter((x) => x.changeType === 'Delete').map((x) => x.resourceId.split('/').pop());
    // Child pools of a deleted cluster go with it; the platform lists only clusters (see the e2e suite).
    expect(deleted.filter((n) => c.clusters.includes(n as string))).toEqual(c.complete.deletes);
  });
});

describe.each(functions.map((c) => [c.file, c] as const))('golden functions %s', (_file, c) => {
  it('gives every output its known value', async () => {
    const outputs = await evaluateOutputs(plan(c.file), new InMemoryTemplateHost());
    expect(outputs).toEqual(
      c.outputs({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, location: 'eastus', deploymentName: 'deploy1', uniqueString, guid: armGuid }),
    );
  });
});

describe.each(errors.map((c) => [c.file, c] as const))('golden error %s', (_file, c) => {
  if (c.stage === 'template') {
    it(`is rejected with ${c.code}`, () => {
      let error: unknown;
      try {
        plan(c.file);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ArmError);
      expect((error as ArmError).code).toBe(c.code);
      expect((error as ArmError).message).toContain(c.message);
    });
  } else {
    it('is a valid template: only the platform rejects it (hosted resource types)', () => {
      expect(plan(c.file).resources.map((r) => r.type)).toContain('Microsoft.Storage/storageAccounts');
    });
  }
});
