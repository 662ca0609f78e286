import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { KubeApiError, KubeClient } from '../../kube-controller-manager/src/client/kube-client';
import { Harness, startHarness } from './harness';

/** What a request on the loopback socket gets back: status code and body. */
function ask(socketPath: string, path: string, authorization?: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: authorization ? { authorization } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The in-process controllers' loopback socket: plain HTTP for the server's own token, nothing for anyone else. */
describe('loopback socket', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ controllersInProcess: ['scheduler'] }, []);
  }, 60_000);

  afterAll(() => h?.close());

  it('serves the controllers client with the loopback token', async () => {
    const socketPath = h.server.loopbackSocket as string;
    expect(socketPath).toBeTruthy();
    const client = new KubeClient({ server: 'http://localhost', socketPath, token: h.server.loopbackToken });
    try {
      const ns = await client.list<{ metadata: { name: string } }>('/api/v1/namespaces');
      expect(ns.items.map((n) => n.metadata.name)).toEqual(expect.arrayContaining(['default', 'kube-system']));
      const created = await client.create<{ metadata: { name: string } }>('/api/v1/namespaces/default/configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'through-loopback' },
      });
      expect(created.metadata.name).toBe('through-loopback');
      await expect(client.get('/api/v1/namespaces/default/configmaps/missing')).rejects.toBeInstanceOf(KubeApiError);
    } finally {
      client.close();
    }
  });

  it('answers 401 Unauthorized to any other credentials or none, even where anonymous is allowed', async () => {
    const socketPath = h.server.loopbackSocket as string;
    for (const authorization of [undefined, 'Bearer not-the-token', `Bearer ${h.server.loopbackToken}x`]) {
      for (const path of ['/api/v1/namespaces', '/healthz']) {
        const res = await ask(socketPath, path, authorization);
        expect(res.code).toBe(401);
        expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
      }
    }
  });

  it('is removed when the server stops', async () => {
    const socketPath = h.server.loopbackSocket as string;
    await h.close();
    expect(existsSync(socketPath)).toBe(false);
    h = undefined as unknown as Harness;
  });
});
