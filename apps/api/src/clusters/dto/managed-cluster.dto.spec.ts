import { ArmError } from '@cerulean/arm';
import { armValidationPipe } from '../../common/validation';
import { AgentPoolBodyDto } from './agent-pool-properties.dto';
import { ManagedClusterBodyDto } from './managed-cluster.dto';

const sut = armValidationPipe();
const validate = async (metatype: new () => object, body: unknown): Promise<unknown> => sut.transform(body, { type: 'body', metatype });
const refusal = async (metatype: new () => object, body: unknown): Promise<ArmError> => {
  try {
    await validate(metatype, body);
  } catch (err) {
    if (err instanceof ArmError) return err;
    throw err;
  }
  throw new Error('the body was accepted');
};

const cluster = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  location: 'eastus',
  properties: { dnsPrefix: 'd', agentPoolProfiles: [{ name: 'system', count: 1, mode: 'System' }], ...properties },
  ...extra,
});

describe('cluster and pool bodies: arrays where objects are declared are 400 InvalidParameter', () => {
  it.each([
    ['agentPoolProfiles [[]]', cluster({ agentPoolProfiles: [[]] }), 'properties.agentPoolProfiles'],
    ['agentPoolProfiles [null]', cluster({ agentPoolProfiles: [null] }), 'properties.agentPoolProfiles'],
    ['agentPoolProfiles [profile, []]', cluster({ agentPoolProfiles: [{ name: 'system', count: 1 }, []] }), 'properties.agentPoolProfiles'],
    ['sku [[]]', cluster({}, { sku: [[]] }), 'sku'],
    ['properties []', { location: 'eastus', properties: [] }, 'properties'],
  ])('a cluster PUT with %s', async (_name, body, target) => {
    const err = await refusal(ManagedClusterBodyDto, body);
    expect(err.status).toBe(400);
    expect(err.code).toBe('InvalidParameter');
    expect(err.target).toBe(target);
  });

  it.each([
    ['properties [[]]', { properties: [[]] }, 'properties'],
    ['powerState [[]]', { properties: { powerState: [[]] } }, 'properties.powerState'],
  ])('a pool PUT with %s', async (_name, body, target) => {
    const err = await refusal(AgentPoolBodyDto, body);
    expect(err.code).toBe('InvalidParameter');
    expect(err.target).toBe(target);
  });

  it('still accepts the well-formed bodies', async () => {
    await expect(validate(ManagedClusterBodyDto, cluster({}, { sku: { name: 'Base', tier: 'Free' } }))).resolves.toBeInstanceOf(ManagedClusterBodyDto);
    await expect(validate(AgentPoolBodyDto, { properties: { count: 1, powerState: { code: 'Running' } } })).resolves.toBeInstanceOf(AgentPoolBodyDto);
  });
});
