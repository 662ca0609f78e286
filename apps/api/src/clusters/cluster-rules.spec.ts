import { PowerStateCode, ProvisioningState } from '@cerulean/domain';
import { powerChangeRefusal } from './cluster-rules';

describe('powerChangeRefusal', () => {
  const cluster = (powerState: PowerStateCode, provisioningState: ProvisioningState) => ({ name: 'c1', powerState, provisioningState });

  it('refuses a stop of a stopped cluster and a start of a running one with 409 OperationNotAllowed', () => {
    const stop = powerChangeRefusal(cluster(PowerStateCode.Stopped, ProvisioningState.Succeeded), PowerStateCode.Stopped);
    expect(stop).toMatchObject({
      status: 409,
      code: 'OperationNotAllowed',
      message: "Unable to stop managed cluster 'c1': its power state is already Stopped.",
    });
    const start = powerChangeRefusal(cluster(PowerStateCode.Running, ProvisioningState.Succeeded), PowerStateCode.Running);
    expect(start).toMatchObject({ status: 409, message: "Unable to start managed cluster 'c1': its power state is already Running." });
  });

  it('takes the change to the other state', () => {
    expect(powerChangeRefusal(cluster(PowerStateCode.Running, ProvisioningState.Succeeded), PowerStateCode.Stopped)).toBeUndefined();
    expect(powerChangeRefusal(cluster(PowerStateCode.Stopped, ProvisioningState.Succeeded), PowerStateCode.Running)).toBeUndefined();
  });

  it('takes a start again after a failed start (Failed and Running) and a stop after a failed one', () => {
    expect(powerChangeRefusal(cluster(PowerStateCode.Running, ProvisioningState.Failed), PowerStateCode.Running)).toBeUndefined();
    expect(powerChangeRefusal(cluster(PowerStateCode.Stopped, ProvisioningState.Failed), PowerStateCode.Stopped)).toBeUndefined();
  });
});
