import type { FastifyInstance } from 'fastify';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One request/response pair as `oav validate-traffic` reads it (oav's RequestResponsePair). */
export interface TrafficPair {
  liveRequest: { headers: Record<string, string>; method: string; url: string; body?: unknown };
  liveResponse: { statusCode: string; headers: Record<string, string>; body?: unknown };
}

export interface ExchangeInput {
  method: string;
  /** Scheme and authority the client used, e.g. https://127.0.0.1:8443. */
  origin: string;
  /** The request target as sent (path and query). */
  target: string;
  requestHeaders: Record<string, string | string[] | number | undefined>;
  requestBody: unknown;
  statusCode: number;
  responseHeaders: Record<string, string | string[] | number | undefined>;
  /** The serialised response body, if any. */
  responsePayload: string | undefined;
}

const REDACTED = '<redacted>';
// A valid base64 string, for fields the spec types as bytes (kubeconfigs).
const REDACTED_BYTES = Buffer.from('redacted').toString('base64');
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'x-ms-authorization-auxiliary', 'proxy-authorization']);
// Body properties that carry secrets in the AKS and deployments shapes (service principal secret, Windows admin
// password, tokens). Kubeconfig values are bytes and are handled apart.
const SECRET_KEYS = /^(secret|clientSecret|password|adminPassword|accessToken|access_token|refreshToken|refresh_token|token)$/i;

/** Only ARM paths: the token endpoints, health and dashboard are not in any ARM spec. */
export const isArmTarget = (target: string): boolean => /^\/(subscriptions|providers)(\/|\?|$)/i.test(target);

/** The pair oav reads, with credentials and secrets replaced by placeholders of the same type. */
export function toTrafficPair(x: ExchangeInput): TrafficPair {
  return {
    liveRequest: { headers: headerMap(x.requestHeaders), method: x.method.toUpperCase(), url: `${x.origin}${x.target}`, body: redactBody(x.requestBody) },
    liveResponse: { statusCode: String(x.statusCode), headers: headerMap(x.responseHeaders), body: redactBody(parsePayload(x.responsePayload)) },
  };
}

function headerMap(headers: ExchangeInput['requestHeaders']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    out[lower] = SECRET_HEADERS.has(lower) ? REDACTED : Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function parsePayload(payload: string | undefined): unknown {
  if (payload === undefined || payload === '') return undefined;
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

function redactBody(value: unknown, parentKey = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => redactBody(v, parentKey));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (parentKey === 'kubeconfigs' && key === 'value' && typeof v === 'string') out[key] = REDACTED_BYTES;
    else if (SECRET_KEYS.test(key) && typeof v === 'string') out[key] = REDACTED;
    else out[key] = redactBody(v, key);
  }
  return out;
}

/**
 * Writes every ARM exchange to `dir` (one file per pair, named so a listing keeps their order), for
 * `scripts/validate-traffic.sh`. The write is awaited before the reply goes out, so a client that saw its
 * answer finds it recorded.
 */
export function recordTraffic(fastify: FastifyInstance, dir: string): void {
  mkdirSync(dir, { recursive: true });
  let seq = 0;
  fastify.addHook('onSend', async (req, reply, payload) => {
    const target = req.originalUrl;
    if (!isArmTarget(req.url)) return payload;
    // Streams (none on ARM routes today) are passed through unrecorded rather than consumed here.
    if (payload !== null && payload !== undefined && typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const pair = toTrafficPair({
      method: req.method,
      origin: `https://${req.headers.host ?? 'localhost'}`,
      target,
      requestHeaders: req.headers,
      requestBody: req.body,
      statusCode: reply.statusCode,
      responseHeaders: reply.getHeaders(),
      responsePayload: payload === null || payload === undefined ? undefined : payload.toString(),
    });
    seq += 1;
    const name = `${Date.now()}-${process.pid}-${String(seq).padStart(6, '0')}.json`;
    await writeFile(join(dir, name), JSON.stringify(pair, null, 2)).catch((err: unknown) =>
      req.log.warn({ err, correlationId: req.arm?.correlationId }, 'traffic recording failed'),
    );
    return payload;
  });
}
