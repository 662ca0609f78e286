import { createServer, Server, Socket } from 'node:net';
import { ArmError } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { EntityManager } from 'typeorm';
import { ArmFrontDoor } from './arm-front-door.service';
import { FrontDoorTemplateHost } from './front-door-host';

/** A TCP listener that records every connection: the "internal service" a hostile template aims at. */
async function listener(): Promise<{ server: Server; port: number; connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, connections };
}

// The front door resolves the caller's token from the database only after the target is accepted: a database that
// fails every call proves the refusal comes first.
const noDatabase = new Proxy({}, { get: () => () => Promise.reject(new Error('the database must not be used')) }) as unknown as EntityManager;

function sut(apiPort: number, publicBaseUrl?: string): ArmFrontDoor {
  const env = Object.assign(new Env(), {
    API_HOST: '127.0.0.1',
    API_PORT: apiPort,
    DATA_DIR: '/nonexistent',
    ...(publicBaseUrl ? { PUBLIC_BASE_URL: publicBaseUrl } : {}),
  });
  return new ArmFrontDoor(env, noDatabase);
}

async function refusal(run: () => Promise<unknown>): Promise<ArmError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ArmError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('ArmFrontDoor sends requests to the platform only', () => {
  let target: Awaited<ReturnType<typeof listener>>;

  beforeAll(async () => {
    target = await listener();
  });
  afterAll(async () => {
    await new Promise((resolve) => target.server.close(resolve));
  });

  it.each([
    (port: number) => `//127.0.0.1:${port}/x`,
    (port: number) => `https://127.0.0.1:${port}/subscriptions/s`,
    (port: number) => `http://127.0.0.1:${port}/`,
    (port: number) => `/\\127.0.0.1:${port}/x`,
    (port: number) => `https://127.0.0.1:1//127.0.0.1:${port}/x`,
    (port: number) => `https://user:pw@127.0.0.1:1/x?port=${port}`,
  ])('refuses %p without opening a connection, naming no network detail', async (make) => {
    const url = make(target.port);
    const err = await refusal(() => sut(1).send('GET', url, { caller: { id: 'app', type: 'Application' } }));
    expect(err.status).toBe(400);
    expect(err.message).not.toContain(String(target.port));
    expect(err.message).not.toMatch(/ECONNREFUSED|refused|timeout|open|closed/i);
    expect(target.connections).toHaveLength(0);
  });

  it('keeps the path and query of its own URLs and of the public base URL, and nothing else', () => {
    const door = sut(8443, 'https://arm.example.test');
    expect(door.ownPath('/subscriptions/s/resourceGroups/g?api-version=1')).toBe('/subscriptions/s/resourceGroups/g?api-version=1');
    expect(door.ownPath('https://127.0.0.1:8443/subscriptions/s?$skipToken=1')).toBe('/subscriptions/s?$skipToken=1');
    expect(door.ownPath('https://arm.example.test/subscriptions/s')).toBe('/subscriptions/s');
    expect(() => door.ownPath('https://arm.example.test:6379/subscriptions/s')).toThrow(ArmError);
    expect(() => door.ownPath('https://127.0.0.1:6379/subscriptions/s')).toThrow(ArmError);
  });

  it('FrontDoorTemplateHost refuses reference()/list*() of anything but a resource id before sending', async () => {
    const door = sut(target.port);
    const sent: string[] = [];
    const spy = jest.spyOn(door, 'send').mockImplementation(async (_m, path) => {
      sent.push(path);
      return { status: 200, headers: {}, body: {} };
    });
    const host = new FrontDoorTemplateHost(door, { id: 'app', type: 'Application' }, null);
    for (const resourceId of [`//127.0.0.1:${target.port}/x`, `/subscriptions/s/../../x`, `https://127.0.0.1:${target.port}/`]) {
      expect((await refusal(() => host.reference({ resourceId, full: false, inTemplate: false }))).code).toBe('InvalidTemplate');
      expect((await refusal(() => host.list({ action: 'listKeys', resourceId }))).code).toBe('InvalidTemplate');
    }
    expect((await refusal(() => host.list({ action: 'listKeys/../x', resourceId: '/subscriptions/s/resourceGroups/g/providers/A.B/c/d' }))).code).toBe(
      'InvalidTemplate',
    );
    expect(sent).toEqual([]);
    await host.reference({
      resourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c',
      full: false,
      inTemplate: true,
    });
    expect(sent).toEqual([
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c?api-version=' + sent[0]?.split('api-version=')[1],
    ]);
    spy.mockRestore();
    expect(target.connections).toHaveLength(0);
  });
});
