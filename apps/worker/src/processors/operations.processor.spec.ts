import { loadEnv } from '@cerulean/config';
import { DEPLOYMENTS_QUEUE, OPERATIONS_QUEUE, SUBSCRIPTION_DEPLOYMENTS_QUEUE } from '@cerulean/queue-contracts';
import { consumedQueues, workerOptions } from './operations.processor';

const env = loadEnv({
  CERULEAN_REDIS_URL: 'redis://:s3cret@127.0.0.1:6390',
  CERULEAN_QUEUE_PREFIX: 'it',
  CERULEAN_JOB_LOCK_MS: '4000',
  CERULEAN_STALLED_INTERVAL_MS: '1000',
  CERULEAN_WORKER_CONCURRENCY: '3',
  CERULEAN_DEPLOYMENT_CONCURRENCY: '5',
});

describe('workerOptions', () => {
  it('takes the job lock, its renewal and the stalled check from Env, and never fails a job for stalling', () => {
    const sut = workerOptions(env, 3);
    expect(sut).toMatchObject({ lockDuration: 4000, lockRenewTime: 2000, stalledInterval: 1000, maxStalledCount: 1000, concurrency: 3 });
  });

  it('connects to the Redis and key prefix the queues use (blocking connections need maxRetriesPerRequest null)', () => {
    expect(workerOptions(env, 1)).toMatchObject({ connection: { url: 'redis://:s3cret@127.0.0.1:6390', maxRetriesPerRequest: null }, prefix: 'it' });
  });
});

describe('consumedQueues', () => {
  it('gives operations WORKER_CONCURRENCY slots and each deployment tier DEPLOYMENT_CONCURRENCY of its own', () => {
    expect(consumedQueues(env)).toEqual([
      { queue: OPERATIONS_QUEUE, concurrency: 3 },
      { queue: DEPLOYMENTS_QUEUE, concurrency: 5 },
      { queue: SUBSCRIPTION_DEPLOYMENTS_QUEUE, concurrency: 5 },
    ]);
  });
});
