import { armHttpRequest } from '@cerulean/arm';
import { loadEnv } from '@cerulean/config';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `cerulean principal <command>`: service principals through the platform's API (/v1.0/servicePrincipals),
 * signed in with client credentials. By default it signs in as the bootstrap principal, whose credential
 * the API wrote to DATA_DIR/secrets/bootstrap-principal.json, and trusts DATA_DIR/tls/ca.pem.
 */
export const PRINCIPAL_USAGE = `usage: cerulean principal <command> [options]

commands:
  create --name <display name>     create a principal; prints its appId, tenant and secret (shown once)
  list                             list principals (secrets are never shown, only their hints)
  show <id|appId>                  one principal
  delete <id|appId>                delete a principal (its tokens stop being issued)
  rotate-secret <id|appId>         replace every secret of a principal with a new one (printed once)

options:
  --endpoint <url>        the platform (default: the bootstrap file's endpoint, else CERULEAN_API_HOST/PORT)
  --tenant <id>           sign in with these client credentials instead of the bootstrap principal's
  --client-id <appId>
  --client-secret <secret>
  --data-dir <dir>        where the bootstrap credential and the CA are (default: CERULEAN_DATA_DIR or .data)
  --ca <file>             PEM CA certificate to trust (default: <data-dir>/tls/ca.pem when present)
  -o json|table           output format (default json)
`;

export class UsageError extends Error {}

export interface PrincipalArgs {
  command: 'create' | 'list' | 'show' | 'delete' | 'rotate-secret';
  target?: string;
  name?: string;
  options: { endpoint?: string; tenant?: string; clientId?: string; clientSecret?: string; dataDir?: string; ca?: string; output: 'json' | 'table' };
}

const FLAGS: Record<string, keyof PrincipalArgs['options'] | 'name'> = {
  '--endpoint': 'endpoint',
  '--tenant': 'tenant',
  '--client-id': 'clientId',
  '--client-secret': 'clientSecret',
  '--data-dir': 'dataDir',
  '--ca': 'ca',
  '--name': 'name',
  '-o': 'output',
  '--output': 'output',
};

export function parsePrincipalArgs(args: string[]): PrincipalArgs {
  const [command, ...rest] = args;
  if (!command || !['create', 'list', 'show', 'delete', 'rotate-secret'].includes(command)) {
    throw new UsageError(command ? `unknown command '${command}'` : 'a command is required');
  }
  const parsed: PrincipalArgs = { command: command as PrincipalArgs['command'], options: { output: 'json' } };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const key = FLAGS[flag];
    if (key) {
      const value = inline ?? rest[++i];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
      if (key === 'name') parsed.name = value;
      else if (key === 'output') {
        if (value !== 'json' && value !== 'table') throw new UsageError(`-o must be json or table, not '${value}'`);
        parsed.options.output = value;
      } else parsed.options[key] = value;
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option '${a}'`);
    } else positional.push(a);
  }
  const needsTarget = ['show', 'delete', 'rotate-secret'].includes(parsed.command);
  if (needsTarget && positional.length !== 1) throw new UsageError(`${parsed.command} needs exactly one <id|appId>`);
  if (!needsTarget && positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  if (parsed.command === 'create' && !parsed.name) throw new UsageError('create needs --name <display name>');
  const creds = [parsed.options.tenant, parsed.options.clientId, parsed.options.clientSecret].filter((v) => v !== undefined).length;
  if (creds !== 0 && creds !== 3) throw new UsageError('--tenant, --client-id and --client-secret go together');
  parsed.target = positional[0];
  return parsed;
}

interface HttpAnswer {
  status: number;
  body: unknown;
}

/** One request through the shared ARM HTTPS client; a body that is not JSON is kept as text. */
async function call(ca: string | undefined, url: string, method: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<HttpAnswer> {
  const reply = await armHttpRequest({ method, url, origin: url, ca, rawBody: init.body, headers: init.headers });
  return { status: reply.status, body: reply.body ?? (reply.text || undefined) };
}

const errorText = (a: HttpAnswer): string => {
  const b = a.body as { error?: { code?: string; message?: string } | string; error_description?: string } | undefined;
  if (b && typeof b.error === 'object') return `(${b.error.code}) ${b.error.message}`;
  if (b && typeof b.error === 'string') return `${b.error}: ${b.error_description ?? ''}`;
  return `HTTP ${a.status}`;
};

interface PrincipalWire {
  id: string;
  appId: string;
  displayName: string;
  appOwnerOrganizationId: string;
  isBootstrap?: boolean;
  passwordCredentials: { keyId: string; hint: string; endDateTime: string; secretText: string | null }[];
}

/** What a create or rotate prints: everything a client needs to sign in (az login --service-principal). */
const withCredential = (p: PrincipalWire) => {
  const secret = p.passwordCredentials.find((c) => c.secretText)?.secretText;
  return { id: p.id, appId: p.appId, displayName: p.displayName, tenant: p.appOwnerOrganizationId, password: secret, note: 'the password is shown only once' };
};

function table(rows: PrincipalWire[]): string {
  const lines = [['appId', 'objectId', 'displayName', 'secrets', 'bootstrap']];
  for (const p of rows) lines.push([p.appId, p.id, p.displayName, p.passwordCredentials.map((c) => `${c.hint}…`).join(','), p.isBootstrap ? 'yes' : '']);
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Runs one `cerulean principal ...` command; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function runPrincipalCommand(
  args: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let parsed: PrincipalArgs;
  try {
    parsed = parsePrincipalArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`cerulean principal: ${e.message}\n\n${PRINCIPAL_USAGE}`);
    return 2;
  }
  const env = loadEnv();
  const o = parsed.options;
  const dataDir = resolve(o.dataDir ?? env.DATA_DIR);
  const bootstrapPath = join(dataDir, 'secrets', 'bootstrap-principal.json');
  let creds: { tenantId: string; clientId: string; clientSecret: string; endpoint?: string };
  if (o.clientId) creds = { tenantId: o.tenant!, clientId: o.clientId, clientSecret: o.clientSecret! };
  else {
    if (!existsSync(bootstrapPath)) {
      err(
        `cerulean principal: no credentials: pass --tenant/--client-id/--client-secret, or point --data-dir at the platform's data folder (${bootstrapPath} is missing)\n`,
      );
      return 2;
    }
    creds = JSON.parse(readFileSync(bootstrapPath, 'utf8')) as { tenantId: string; clientId: string; clientSecret: string; endpoint?: string };
  }
  const endpoint = (o.endpoint ?? creds.endpoint ?? env.PUBLIC_BASE_URL ?? `https://${env.API_HOST}:${env.API_PORT}`).replace(/\/+$/, '');
  const caPath = o.ca ?? (existsSync(join(dataDir, 'tls', 'ca.pem')) ? join(dataDir, 'tls', 'ca.pem') : undefined);
  const ca = caPath ? readFileSync(caPath, 'utf8') : undefined;
  try {
    const token = await call(ca, `${endpoint}/${encodeURIComponent(creds.tenantId)}/oauth2/v2.0/token`, 'POST', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: creds.clientId,
        client_secret: creds.clientSecret,
        scope: 'https://management.core.windows.net//.default',
      }).toString(),
    });
    if (token.status !== 200) {
      err(`cerulean principal: sign-in failed: ${errorText(token)}\n`);
      return 1;
    }
    const bearer = { authorization: `Bearer ${(token.body as { access_token: string }).access_token}` };
    const base = `${endpoint}/v1.0/servicePrincipals`;
    const target = parsed.target ? encodeURIComponent(parsed.target) : '';
    let answer: HttpAnswer;
    switch (parsed.command) {
      case 'create':
        answer = await call(ca, base, 'POST', {
          headers: { ...bearer, 'content-type': 'application/json' },
          body: JSON.stringify({ displayName: parsed.name }),
        });
        break;
      case 'list':
        answer = await call(ca, base, 'GET', { headers: bearer });
        break;
      case 'show':
        answer = await call(ca, `${base}/${target}`, 'GET', { headers: bearer });
        break;
      case 'delete':
        answer = await call(ca, `${base}/${target}`, 'DELETE', { headers: bearer });
        break;
      case 'rotate-secret':
        answer = await call(ca, `${base}/${target}/rotatePassword`, 'POST', { headers: bearer });
        break;
    }
    if (answer.status >= 300) {
      err(`cerulean principal ${parsed.command}: ${errorText(answer)}\n`);
      return 1;
    }
    const body = answer.body;
    if (parsed.command === 'delete') {
      out(o.output === 'json' ? `${JSON.stringify({ deleted: parsed.target })}\n` : `deleted ${parsed.target}\n`);
    } else if (parsed.command === 'create' || parsed.command === 'rotate-secret') {
      out(`${JSON.stringify(withCredential(body as PrincipalWire), null, 2)}\n`);
    } else if (parsed.command === 'list') {
      const rows = (body as { value: PrincipalWire[] }).value;
      out(o.output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : `${table(rows)}\n`);
    } else {
      out(o.output === 'json' ? `${JSON.stringify(body, null, 2)}\n` : `${table([body as PrincipalWire])}\n`);
    }
    return 0;
  } catch (e) {
    err(`cerulean principal: cannot reach ${endpoint}: ${(e as Error).message}\n`);
    return 1;
  }
}
