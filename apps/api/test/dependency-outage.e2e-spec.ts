import { setTimeout as sleep } from 'node:timers/promises';
import { restartPrivatePostgres, restartPrivateRedis } from '../../../test-support/private-services';
import { arm, ArmResponse, RES_API, rgPath, startWorker, state, sub, tokenOf, WorkerProcess } from '../../../test-support/platform';

jest.setTimeout(180_000);

/**
 * Postgres and Redis of the run restart under the API (issue 18, finding 5): while one is away a caller gets 503
 * ServiceUnavailable with Retry-After (ARM clients retry it), never a 500 and never a hang; when it is back the
 * platform serves again by itself. The run's own private services are restarted (jest runs the integration files
 * one at a time, so no other file is using them meanwhile).
 */

interface Answer {
  at: number;
  what: string;
  status: number;
  retryAfter?: string;
  code?: string;
}

const answer = (what: string, r: ArmResponse<{ error?: { code?: string } }>): Answer => ({
  at: Date.now(),
  what,
  status: r.status,
  retryAfter: r.headers['retry-after'] as string | undefined,
  code: r.body?.error?.code,
});

const ok = (a: Answer): boolean => a.status >= 200 && a.status < 300;
/** A Retry-After in whole seconds, as ARM sends it. */
const saysWhen = (a: Answer): boolean => /^\d+$/.test(a.retryAfter ?? '');
/** ARM's throttling answer; four callers in a tight loop can empty the per-principal buckets on a fast machine. */
const throttled = (a: Answer): boolean => a.status === 429 && a.code === 'TooManyRequests';
/**
 * Whether an answer is one an ARM client copes with: success, or a retryable answer that says when to come back
 * (503 ServiceUnavailable while a dependency is away, 429 TooManyRequests when the caller outruns ARM's throttle).
 */
const acceptable = (a: Answer): boolean => ok(a) || ((throttled(a) || (a.status === 503 && a.code === 'ServiceUnavailable')) && saysWhen(a));

describe('a dependency that restarts under the API', () => {
  let worker: WorkerProcess | undefined;

  afterAll(async () => {
    await worker?.stop();
  });

  it('answers only 2xx or 503 with Retry-After while Postgres restarts, and serves again by itself', async () => {
    await tokenOf(); // the token is in hand before the outage, as a long-running client's would be
    const list = `/subscriptions/${sub()}/resourcegroups?${RES_API}`;
    expect((await arm('GET', list)).status).toBe(200);

    const answers: Answer[] = [];
    let stop = false;
    // Four callers at once, as an SDK user and a polling dashboard would be: reads, writes, health. Like an Azure
    // SDK's retry policy, a caller told to come back later (503 or 429 with Retry-After) waits that long first.
    const record = async (what: string, r: Promise<ArmResponse<{ error?: { code?: string } }>>): Promise<void> => {
      const a = answer(what, await r);
      answers.push(a);
      if ((a.status === 503 || a.status === 429) && saysWhen(a)) await sleep(Number(a.retryAfter) * 1_000);
    };
    const caller = async (n: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const name = `outage-${n}-${i % 5}`;
        await record('list', arm('GET', list));
        await record('put', arm('PUT', `${rgPath(name)}?${RES_API}`, { body: { location: 'eastus', tags: { i: String(i) } } }));
        await record('get', arm('GET', `${rgPath(name)}?${RES_API}`));
        await record('healthz', arm('GET', '/healthz', { token: null }));
      }
    };
    const callers = [0, 1, 2, 3].map((n) => caller(n));

    await sleep(1_000);
    const downAt = Date.now();
    await restartPrivatePostgres(state().pgData, 4_000);
    const upAt = Date.now();
    // Serving again within a bounded time, with no help: for a second, every answer is a success (or ARM's
    // throttle, which is the API serving), with at least 8 successes.
    let servingAt: number | undefined;
    while (servingAt === undefined && Date.now() - upAt < 30_000) {
      await sleep(250);
      const recent = answers.filter((a) => a.at > Date.now() - 1_000);
      if (recent.filter(ok).length >= 8 && recent.every((a) => ok(a) || throttled(a))) servingAt = Date.now();
    }
    stop = true;
    await Promise.all(callers);

    const during = answers.filter((a) => a.at >= downAt && a.at <= upAt);
    const unavailable = answers.filter((a) => a.status === 503);
    console.log(
      `postgres down ${upAt - downAt} ms, serving again ${servingAt ? servingAt - upAt : 'never'} ms after start; ` +
        `${answers.length} answers, ${during.length} while down, ${unavailable.length} × 503, ${answers.filter(throttled).length} × 429`,
    );
    expect(answers.filter((a) => !acceptable(a))).toEqual([]);
    // The outage really was seen (else this test proves nothing).
    expect(unavailable.length).toBeGreaterThan(0);
    expect(servingAt).toBeDefined();
    expect((await arm('PUT', `${rgPath('outage-after')}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
  });

  it('accepts a delete while Redis is away and runs it once Redis is back', async () => {
    expect((await arm('PUT', `${rgPath('outage-redis')}?${RES_API}`, { body: { location: 'eastus' } })).status).toBe(201);
    const redisBack = restartPrivateRedis(state().dir, 8_000);
    await sleep(500);

    // The operation is durable in Postgres before Redis is asked: the caller gets its 202 without waiting for Redis.
    const started = Date.now();
    const accepted = await arm('DELETE', `${rgPath('outage-redis')}?${RES_API}`);
    const waitedMs = Date.now() - started;
    expect(accepted.status).toBe(202);
    expect(waitedMs).toBeLessThan(6_000);
    expect(accepted.headers.location).toBeDefined();

    await redisBack;
    worker = await startWorker();
    const deadline = Date.now() + 60_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      gone = (await arm('GET', `${rgPath('outage-redis')}?${RES_API}`)).status === 404;
      if (!gone) await sleep(250);
    }
    expect(gone).toBe(true);
  });
});
