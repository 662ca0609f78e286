import 'reflect-metadata';
import { acceptsJsonc, ArmError, assertJsonDepth, assertStorableJson, canonicalRequestTarget, createRequestContext, parseDeploymentBody } from '@cerulean/arm';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { Env, loadEnv } from '@cerulean/config';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiModule } from './api.module';
import { setConfiguredBaseUrl } from './common/arm-request';
import { bootstrapCredentialPath } from './identity/bootstrap-principal.service';
import { BearerTokenCheck } from './identity/bearer-auth.guard';
import { TOKEN_ROUTES } from './identity/token.controller';
import { ensureServerTls } from './common/tls';
import { recordTraffic } from './common/traffic-recorder';
import { DASHBOARD_PATH, dashboardRoot, registerDashboard } from './dashboard';

/** Set by rewriteUrl on a request whose path cannot be canonicalised: why. */
const UNREADABLE_TARGET = Symbol('cerulean.unreadableTarget');

async function bootstrap(): Promise<void> {
  const env: Env = loadEnv();
  const tls = await ensureServerTls(env.DATA_DIR);
  setConfiguredBaseUrl(env.PUBLIC_BASE_URL);
  const adapter = new FastifyAdapter({
    https: { key: tls.key, cert: tls.cert },
    // One spelling of every path for the router, authorization and handlers alike (R1.2: fixed segments match
    // in any casing; names are left as sent). A path that cannot be read one way only is refused below.
    rewriteUrl: (req: { url?: string; [UNREADABLE_TARGET]?: string }) => {
      const target = canonicalRequestTarget(req.url ?? '/');
      if (target.ok) return target.url;
      req[UNREADABLE_TARGET] = target.message;
      return '/';
    },
    exposeHeadRoutes: false,
    // Names are checked by their own rules (with ARM's codes); a long escaped Unicode name is still one segment.
    maxParamLength: 1024,
    // The router's and the HTTP parser's own refusals speak ARM's error envelope too.
    frameworkErrors: (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const status = err.statusCode ?? 400;
      void reply
        .code(status)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(new ArmError(status, status === 414 ? 'RequestUriTooLong' : 'BadRequest', err.message).toBody()));
    },
    clientErrorHandler: armClientError,
    ignoreTrailingSlash: true,
    bodyLimit: 4 * 1024 * 1024,
    disableRequestLogging: true,
    logger: { level: env.LOG_LEVEL },
  });
  const fastify = adapter.getInstance();

  fastify.addHook('onRequest', async (req, reply) => {
    const { context, responseHeaders } = createRequestContext(req.headers);
    req.arm = context;
    reply.headers(responseHeaders);
    const unreadable = (req.raw as { [UNREADABLE_TARGET]?: string })[UNREADABLE_TARGET];
    if (unreadable !== undefined) {
      // Before anything else reads the request: nothing may act on a path the router would read otherwise.
      throw ArmError.badRequest('InvalidRequestUri', unreadable);
    }
  });
  // One access log line per request, with its ARM ids as fields (not a child logger per request: creating one cost
  // about 4 % of a simple GET's CPU).
  fastify.addHook('onResponse', async (req, reply) => {
    req.log.info(
      {
        correlationId: req.arm?.correlationId,
        armRequestId: req.arm?.requestId,
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        clientRequestId: req.arm?.clientRequestId,
      },
      'request',
    );
  });
  if (env.TRAFFIC_DIR) recordTraffic(fastify, env.TRAFFIC_DIR);
  // Actions (POST start/stop, …) arrive with a JSON content type and no body: that is not malformed JSON.
  // (Nest's own body parser is off, so this is the only JSON parser.)
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      assertJsonDepth(text);
      // Template deployments may carry comments and trailing commas (az splices template files in).
      const body: unknown = acceptsJsonc(req.url) ? parseDeploymentBody(text) : JSON.parse(text);
      assertStorableJson(body);
      done(null, body);
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  // The token endpoints take OAuth's form posts.
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });

  const dashboard = await registerDashboard(fastify);

  const app = await NestFactory.create<NestFastifyApplication>(ApiModule, adapter, { bufferLogs: false, bodyParser: false });
  requireTokenBeforeBody(fastify, app.get(BearerTokenCheck));
  app.enableShutdownHooks();
  await app.listen(env.API_PORT, env.API_HOST);

  const base = env.PUBLIC_BASE_URL ?? `https://${env.API_HOST}:${env.API_PORT}`;
  const logger = new Logger('Cerulean');
  logger.log(`API listening on ${base}`);
  if (dashboard) logger.log(`Dashboard: ${base}${DASHBOARD_PATH}`);
  else logger.warn(`Dashboard not built (no ${dashboardRoot()}/index.html): run npm run build`);
  logger.log(`Trust the local CA: export NODE_EXTRA_CA_CERTS=${tls.caPath}`);
  logger.log(`Default subscription: ${env.SUBSCRIPTION_ID} (tenant ${env.TENANT_ID})`);
  logger.log(`Token authority: ${base}/${env.TENANT_ID}/oauth2/v2.0/token (bootstrap principal: ${bootstrapCredentialPath(env.DATA_DIR)})`);
}

/** The HTTP parser's refusals (header too large, malformed request, timeout), in ARM's error envelope. */
function armClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderFieldsTooLarge', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'RequestTimeout', 'The request was not received in time.']
        : [400, 'BadRequest', 'The request could not be read as HTTP.'];
  const body = JSON.stringify(new ArmError(status, code, message).toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/**
 * A request body is read only for a caller whose token verifies (or for the token endpoints, which take a form):
 * an anonymous 4 MB body costs nothing but the token check, the same check BearerAuthGuard then reuses.
 */
function requireTokenBeforeBody(fastify: FastifyInstance, tokens: BearerTokenCheck): void {
  const open = new Set(TOKEN_ROUTES.map((r) => `/${r}`));
  fastify.addHook('preParsing', async (req, reply, payload) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if ((length === 0 && req.headers['transfer-encoding'] === undefined) || open.has(req.routeOptions.url ?? '')) return payload;
    tokens.claimsOf(req, reply);
    return payload;
  });
}

bootstrap().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
