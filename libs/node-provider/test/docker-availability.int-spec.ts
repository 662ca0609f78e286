import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { DockerNodeProvider, NoFirewall, ProviderError, waitingForDaemon } from '@cerulean/node-provider';
import { SocketRelay } from '../../../test-support/socket-relay';

jest.setTimeout(60_000);

const REAL_SOCKET = process.env.CERULEAN_DOCKER_SOCKET ?? '/var/run/docker.sock';

/**
 * A Docker daemon that is away and comes back (issue 18, finding 2), without touching the machine's dockerd (others
 * share it): the client talks to a socket path that does not exist yet; a moment later a small proxy to the real
 * daemon's socket starts listening there, as a restarted daemon would.
 */
describe('waitingForDaemon (real Docker behind a socket that appears late)', () => {
  let dir: string;
  let socketPath: string;
  let relay: SocketRelay;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cerulean-docker-wait-'));
    socketPath = path.join(dir, 'docker.sock');
    relay = new SocketRelay(socketPath, REAL_SOCKET);
  });
  afterEach(async () => {
    await relay.cut();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts forwarding `socketPath` to the real daemon (the daemon "comes back"). */
  const daemonComesBack = (): Promise<void> => relay.listen();

  it('waits for a daemon that is away and answers once it is back', async () => {
    const firstWaits: unknown[] = [];
    const sut = waitingForDaemon(new Dockerode({ socketPath }), { budgetMs: 20_000, firstDelayMs: 100, maxDelayMs: 1_000 }, (err) => firstWaits.push(err));
    const started = Date.now();

    const answer = sut.version();
    await sleep(1_500);
    await daemonComesBack();
    const version = await answer;

    const tookMs = Date.now() - started;
    expect(version.ApiVersion).toMatch(/^\d+\.\d+$/);
    expect(tookMs).toBeGreaterThanOrEqual(1_500);
    expect(tookMs).toBeLessThan(4_000); // back-off capped at 1 s: no long sleep after the daemon is back
    expect(firstWaits).toHaveLength(1);
  });

  it('runs provider calls through the wait: listing nodes succeeds once the daemon is back', async () => {
    const provider = new DockerNodeProvider({
      docker: waitingForDaemon(new Dockerode({ socketPath }), { budgetMs: 20_000, firstDelayMs: 100, maxDelayMs: 1_000 }),
      firewall: new NoFirewall(),
    });

    const listing = provider.listNodes({ 'cerulean.test-run': 'docker-availability-none' });
    await sleep(1_000);
    await daemonComesBack();

    await expect(listing).resolves.toEqual([]);
  });

  it('gives up after its budget with a transient EngineUnavailable, not at once and not never', async () => {
    const provider = new DockerNodeProvider({
      docker: waitingForDaemon(new Dockerode({ socketPath }), { budgetMs: 2_000, firstDelayMs: 100, maxDelayMs: 500 }),
      firewall: new NoFirewall(),
    });
    const started = Date.now();

    const failure = await provider.listNodes({}).then(
      () => undefined,
      (err: unknown) => err,
    );

    const tookMs = Date.now() - started;
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ code: 'EngineUnavailable', transient: true });
    expect(tookMs).toBeGreaterThanOrEqual(1_400);
    expect(tookMs).toBeLessThan(3_000);
  });
});
