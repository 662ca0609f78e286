import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { arm, ARM_SCOPE, state } from '../../../test-support/platform';

jest.setTimeout(60_000);

const run = promisify(execFile);
const CLI = resolve(__dirname, '../../../dist/apps/cli/src/main.js');

/** `cerulean principal ...` against the running platform, signed in as the bootstrap principal from the data folder. */
async function cerulean(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dataDir = join(state().dir, 'data');
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'principal', ...args, '--data-dir', dataDir, '--endpoint', state().apiUrl], {
      env: { ...process.env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const signIn = (clientId: string, secret: string, tenant: string) =>
  arm('POST', `/${tenant}/oauth2/v2.0/token`, {
    token: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    rawBody: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: ARM_SCOPE }).toString(),
  });

describe('cerulean principal (CLI)', () => {
  it('creates, lists, shows, rotates and deletes a principal; each printed secret signs in', async () => {
    const created = await cerulean('create', '--name', 'cli-made');
    expect(created).toMatchObject({ code: 0 });
    const p = JSON.parse(created.stdout) as { id: string; appId: string; tenant: string; password: string };
    expect(p.tenant).toBe(state().bootstrap.tenantId);
    expect((await signIn(p.appId, p.password, p.tenant)).status).toBe(200);

    const listed = await cerulean('list', '-o', 'table');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${p.appId}\\s+${p.id}\\s+cli-made`));
    expect(listed.stdout).not.toContain(p.password);

    const shown = await cerulean('show', p.appId);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: p.id, displayName: 'cli-made' });

    const rotated = await cerulean('rotate-secret', p.id);
    const fresh = (JSON.parse(rotated.stdout) as { password: string }).password;
    expect(fresh).not.toBe(p.password);
    expect((await signIn(p.appId, p.password, p.tenant)).status).toBe(401);
    expect((await signIn(p.appId, fresh, p.tenant)).status).toBe(200);

    expect((await cerulean('delete', p.id)).code).toBe(0);
    expect((await signIn(p.appId, fresh, p.tenant)).status).toBe(400);
    const again = await cerulean('show', p.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Request_ResourceNotFound');
  });

  it("exits 1 with the authority's message when its credentials are wrong, 2 on usage errors", async () => {
    const wrong = await cerulean('list', '--tenant', state().bootstrap.tenantId, '--client-id', state().bootstrap.clientId, '--client-secret', 'nope');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('AADSTS7000215');
    expect((await cerulean('create')).code).toBe(2);
  });
});
