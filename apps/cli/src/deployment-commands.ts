import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ArmErrorDetail, parseJsonc } from '@cerulean/arm';
import type { WhatIfChange } from '@cerulean/templates';
import { CliError, Connection, describeError } from './connection';
import { COLORS, formatWhatIf, Palette, PLAIN, splitResourceId } from './what-if-format';

const RESOURCES_API = 'api-version=2026-09-01';

export const DEPLOYMENT_USAGE = `Usage:
  cerulean deploy   -g <group> -f <template.json> [-p <params.json> | -p name=value ...] [-n <name>] [--mode Incremental|Complete]
  cerulean what-if  -g <group> -f <template.json> [-p ...] [-n <name>] [--mode Incremental|Complete]
  cerulean validate -g <group> -f <template.json> [-p ...] [-n <name>] [--mode Incremental|Complete]

Connection: --endpoint (CERULEAN_ENDPOINT, default https://127.0.0.1:8443), --ca (CERULEAN_CA, default .data/tls/ca.pem),
--subscription (CERULEAN_SUBSCRIPTION_ID, default the first one listed).
Sign-in: --token (CERULEAN_TOKEN), or --tenant --client-id --client-secret (CERULEAN_TENANT_ID, CERULEAN_CLIENT_ID,
CERULEAN_CLIENT_SECRET), else the platform's bootstrap principal (.data/secrets/bootstrap-principal.json).
Output: --no-color (also NO_COLOR); deploy polls every --interval seconds (default 1).`;

export interface Out {
  log(line: string): void;
  isTTY: boolean;
}

interface DeploymentArgs {
  group: string;
  name: string;
  mode: string;
  /** The request body: the template file's text spliced in as it is (comments included), as az sends it. */
  raw: string;
  palette: Palette;
  interval: number;
}

/** `deploy`, `what-if`, `validate`: exit code 0 on success, 1 on a failed deployment or an error. */
export async function runDeploymentCommand(command: string, argv: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'resource-group': { type: 'string', short: 'g' },
      'template-file': { type: 'string', short: 'f' },
      parameters: { type: 'string', short: 'p', multiple: true },
      name: { type: 'string', short: 'n' },
      mode: { type: 'string' },
      endpoint: { type: 'string' },
      ca: { type: 'string' },
      subscription: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'no-color': { type: 'boolean' },
      interval: { type: 'string' },
    },
    strict: true,
  });
  const group = values['resource-group'];
  const file = values['template-file'];
  if (!group || !file) throw new CliError(`--resource-group (-g) and --template-file (-f) are required.\n\n${DEPLOYMENT_USAGE}`, 2);
  const mode = values.mode ?? 'Incremental';
  if (!['incremental', 'complete'].includes(mode.toLowerCase())) throw new CliError(`--mode must be Incremental or Complete, not '${mode}'.`, 2);
  const templateText = readText(file);
  const template = parseJsonFile(templateText, file) as { parameters?: Record<string, { type?: string }> };
  const parameters = collectParameters(values.parameters ?? [], template.parameters ?? {});
  const args: DeploymentArgs = {
    group,
    name: values.name ?? basename(file, extname(file)),
    mode: mode.toLowerCase() === 'complete' ? 'Complete' : 'Incremental',
    raw: `{"properties":{"mode":${JSON.stringify(mode.toLowerCase() === 'complete' ? 'Complete' : 'Incremental')},"template":${templateText},"parameters":${JSON.stringify(parameters)}}}`,
    palette: values['no-color'] || env.NO_COLOR || !out.isTTY ? PLAIN : COLORS,
    interval: Math.max(0.1, Number(values.interval ?? '1') || 1),
  };
  const conn = new Connection(
    {
      endpoint: values.endpoint,
      ca: values.ca,
      subscription: values.subscription,
      token: values.token,
      tenant: values.tenant,
      clientId: values['client-id'],
      clientSecret: values['client-secret'],
    },
    env,
  );
  const path = `/subscriptions/${await conn.subscriptionId()}/resourcegroups/${encodeURIComponent(args.group)}/providers/Microsoft.Resources/deployments/${encodeURIComponent(args.name)}`;
  switch (command) {
    case 'validate':
      return validate(conn, path, args, out);
    case 'what-if':
      return whatIf(conn, path, args, out);
    default:
      return deploy(conn, path, args, out);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${(err as Error).message}`, 2);
  }
}

function parseJsonFile(text: string, file: string): unknown {
  try {
    return parseJsonc(text);
  } catch (err) {
    throw new CliError(`${file} is not valid JSON: ${(err as Error).message}`, 2);
  }
}

/**
 * `-p` values as az takes them: a parameters file (`{"parameters":{...}}` or the bare object, `@file` too) or
 * `name=value`, the value read as the template declares the parameter (int, bool, object, array) — later ones win.
 */
export function collectParameters(specs: string[], declared: Record<string, { type?: string }>): Record<string, { value: unknown }> {
  const out: Record<string, { value: unknown }> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq > 0 && !spec.startsWith('@') && /^[A-Za-z_][\w-]*$/.test(spec.slice(0, eq))) {
      const name = spec.slice(0, eq);
      const type =
        Object.entries(declared)
          .find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]
          ?.type?.toLowerCase() ?? 'string';
      out[name] = { value: typed(spec.slice(eq + 1), type, name) };
      continue;
    }
    const file = spec.replace(/^@/, '');
    const doc = parseJsonFile(readText(file), file) as Record<string, unknown>;
    const params = (doc.parameters && typeof doc.parameters === 'object' && ('$schema' in doc || 'contentVersion' in doc) ? doc.parameters : doc) as Record<
      string,
      unknown
    >;
    for (const [k, v] of Object.entries(params)) {
      if (k === '$schema' || k === 'contentVersion') continue;
      out[k] = v as { value: unknown };
    }
  }
  return out;
}

function typed(text: string, type: string, name: string): unknown {
  switch (type) {
    case 'int': {
      if (!/^-?\d+$/.test(text)) throw new CliError(`Parameter '${name}' is an int: '${text}' is not one.`, 2);
      return Number(text);
    }
    case 'bool':
      if (!/^(true|false)$/i.test(text)) throw new CliError(`Parameter '${name}' is a bool: use true or false.`, 2);
      return text.toLowerCase() === 'true';
    case 'object':
    case 'secureobject':
    case 'array':
      try {
        return JSON.parse(text);
      } catch {
        throw new CliError(`Parameter '${name}' is an ${type}: its value must be JSON.`, 2);
      }
    default:
      return text;
  }
}

async function validate(conn: Connection, path: string, args: DeploymentArgs, out: Out): Promise<number> {
  const reply = await conn.request('POST', `${path}/validate?${RESOURCES_API}`, { raw: args.raw });
  const body = reply.body as { error?: ArmErrorDetail; properties?: { validatedResources?: { id: string }[] } } | undefined;
  if (reply.status === 200 && !body?.error) {
    out.log(args.palette.create('Validation succeeded.'));
    for (const r of body?.properties?.validatedResources ?? []) out.log(`  ${r.id}`);
    return 0;
  }
  out.log(args.palette.delete('Validation failed.'));
  if (body?.error) for (const line of describeError(body.error, '  ')) out.log(line);
  else out.log(`  The endpoint answered ${reply.status}.`);
  return 1;
}

async function whatIf(conn: Connection, path: string, args: DeploymentArgs, out: Out): Promise<number> {
  const accepted = await conn.expect('POST', `${path}/whatIf?${RESOURCES_API}`, [200, 202], { raw: args.raw });
  let result = accepted;
  while (result.status === 202) {
    const location = result.headers.location;
    if (!location) throw new CliError('The what-if was accepted without a Location to read its result from.');
    await sleep(Math.min(Number(result.headers['retry-after'] ?? '1') || 1, 5) * 1000);
    result = await conn.expect('GET', location, [200, 202]);
  }
  const body = result.body as { status?: string; error?: ArmErrorDetail; properties?: { changes?: WhatIfChange[] } };
  if (body.error) {
    for (const line of describeError(body.error)) out.log(`ERROR: ${line}`);
    return 1;
  }
  out.log(formatWhatIf(body.properties?.changes ?? [], args.palette));
  return 0;
}

interface OperationWire {
  operationId: string;
  properties: {
    provisioningOperation: string;
    provisioningState: string;
    duration?: string;
    statusCode?: string;
    statusMessage?: { error?: ArmErrorDetail };
    targetResource?: { id?: string; resourceType?: string; resourceName?: string };
  };
}

interface DeploymentWire {
  properties: {
    provisioningState: string;
    duration?: string;
    outputs?: Record<string, { type: string; value?: unknown }>;
    error?: ArmErrorDetail;
  };
}

const TERMINAL = ['Succeeded', 'Failed', 'Canceled'];

async function deploy(conn: Connection, path: string, args: DeploymentArgs, out: Out): Promise<number> {
  const p = args.palette;
  const started = Date.now();
  await conn.expect('PUT', `${path}?${RESOURCES_API}`, [200, 201], { raw: args.raw });
  out.log(`Deployment '${args.name}' accepted in resource group '${args.group}' (${args.mode}).`);
  const seen = new Map<string, string>();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s`;
  for (;;) {
    const ops = await listAll(
      conn,
      `/subscriptions/${path.split('/')[2]}/resourcegroups/${encodeURIComponent(args.group)}/deployments/${encodeURIComponent(args.name)}/operations?${RESOURCES_API}`,
    );
    for (const op of ops) {
      const state = op.properties.provisioningState;
      if (seen.get(op.operationId) === state) continue;
      seen.set(op.operationId, state);
      const target = op.properties.targetResource;
      const what = target?.id ? splitResourceId(target.id).typeAndName : `${target?.resourceType ?? ''}/${target?.resourceName ?? ''}`;
      const colored = state === 'Succeeded' ? p.create(state) : state === 'Failed' ? p.delete(state) : p.modify(state);
      out.log(`  [${elapsed()}] ${what.padEnd(60)} ${op.properties.provisioningOperation.padEnd(7)} ${colored}`);
      const error = op.properties.statusMessage?.error;
      if (state === 'Failed' && error) for (const line of describeError(error, '             ')) out.log(line);
    }
    const d = (await conn.expect('GET', `${path}?${RESOURCES_API}`, [200])).body as DeploymentWire;
    if (TERMINAL.includes(d.properties.provisioningState)) return finish(d, args, out, elapsed());
    await sleep(args.interval * 1000);
  }
}

async function listAll(conn: Connection, url: string): Promise<OperationWire[]> {
  const out: OperationWire[] = [];
  for (let next: string | undefined = url; next;) {
    const page = (await conn.expect('GET', next, [200])).body as { value?: OperationWire[]; nextLink?: string };
    out.push(...(page.value ?? []));
    next = page.nextLink;
  }
  return out;
}

function finish(d: DeploymentWire, args: DeploymentArgs, out: Out, elapsed: string): number {
  const p = args.palette;
  const state = d.properties.provisioningState;
  out.log(`Deployment '${args.name}' ${state === 'Succeeded' ? p.create(state) : p.delete(state)} after ${elapsed.trim()}.`);
  if (d.properties.error) for (const line of describeError(d.properties.error, '  ')) out.log(line);
  const outputs = Object.entries(d.properties.outputs ?? {});
  if (outputs.length) {
    out.log('Outputs:');
    for (const [k, v] of outputs) out.log(`  ${k} (${v.type}): ${v.value === undefined ? '<secure>' : JSON.stringify(v.value)}`);
  }
  return state === 'Succeeded' ? 0 : 1;
}
