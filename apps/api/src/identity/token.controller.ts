import { Env } from '@cerulean/config';
import { parseBasicCredentials, resourceFromName, resourceFromScope, ScopeResult } from '@cerulean/identity';
import { Body, Controller, Get, Headers, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { PublicRoute } from '../common/public-route';
import { PublicAddress } from '../common/public-address.service';
import { ClientAuthenticator } from './client-authenticator.service';
import { TOKEN_LIFETIME_SECONDS } from '@cerulean/identity';
import { IdentityService } from './identity.service';

type Form = Record<string, string | undefined>;

/** Tenant path segments the authority answers for: its own tenant id, and Entra's multi-tenant aliases. */
/** The token endpoints (v2, v1): the only routes that read a request body from a caller without a bearer token. */
export const TOKEN_ROUTES = [':tenant/oauth2/v2.0/token', ':tenant/oauth2/token'] as const;

const TENANT_ALIASES = new Set(['common', 'organizations', 'consumers']);

/**
 * The Entra-like token authority: OpenID discovery (v2 and v1), the client credentials token endpoints,
 * the signing keys, and ARM's cloud metadata (`az cloud register`). None of these take a bearer token.
 * Endpoint URLs use the address the client called (PublicAddress: forwarded headers only from trusted
 * proxies); the issuer of minted tokens is always the platform's own address.
 */
@Controller()
@PublicRoute()
export class TokenController {
  constructor(
    private readonly identity: IdentityService,
    private readonly authenticator: ClientAuthenticator,
    private readonly address: PublicAddress,
    private readonly env: Env,
  ) {}

  @Get(':tenant/v2.0/.well-known/openid-configuration')
  openIdV2(@Param('tenant') tenant: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!this.knownTenant(tenant)) return this.oauthError(reply, 400, 'invalid_tenant', this.tenantNotFound(tenant), 90002);
    const base = this.address.baseOf(req);
    const t = this.tenantSegment(tenant);
    return {
      token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      // MSAL requires the issuer's scheme and host to be the authority's (the address the client called).
      issuer: `${base}/${this.issuerTenant(tenant)}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'tid', 'oid', 'appid', 'azp', 'ver'],
      kerberos_endpoint: `${base}/${t}/kerberos`,
      tenant_region_scope: 'NA',
      cloud_instance_name: new URL(base).host,
      cloud_graph_host_name: new URL(base).host,
      msgraph_host: new URL(base).host,
      rbac_url: base,
    };
  }

  @Get(':tenant/.well-known/openid-configuration')
  openIdV1(@Param('tenant') tenant: string, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    if (!this.knownTenant(tenant)) return this.oauthError(reply, 400, 'invalid_tenant', this.tenantNotFound(tenant), 90002);
    const base = this.address.baseOf(req);
    const t = this.tenantSegment(tenant);
    return {
      token_endpoint: `${base}/${t}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      jwks_uri: `${base}/${t}/discovery/keys`,
      issuer: `${base}/${this.issuerTenant(tenant)}/`,
      authorization_endpoint: `${base}/${t}/oauth2/authorize`,
      end_session_endpoint: `${base}/${t}/oauth2/logout`,
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      subject_types_supported: ['pairwise'],
    };
  }

  @Get([':tenant/discovery/v2.0/keys', ':tenant/discovery/keys', 'discovery/keys', 'common/discovery/keys'])
  keys() {
    return this.identity.jwks();
  }

  @Post(TOKEN_ROUTES[0])
  @HttpCode(200)
  tokenV2(
    @Param('tenant') tenant: string,
    @Body() body: unknown,
    @Headers('authorization') auth: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const form = asForm(body);
    return this.token(2, tenant, form, auth, req, reply, () => resourceFromScope(form.scope, this.identity.audiences(this.address.baseOf(req))));
  }

  @Post(TOKEN_ROUTES[1])
  @HttpCode(200)
  tokenV1(
    @Param('tenant') tenant: string,
    @Body() body: unknown,
    @Headers('authorization') auth: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const form = asForm(body);
    const audiences = this.identity.audiences(this.address.baseOf(req));
    return this.token(1, tenant, form, auth, req, reply, () =>
      form.resource === undefined && form.scope ? resourceFromScope(form.scope, audiences) : resourceFromName(form.resource, audiences),
    );
  }

  /** ARM's cloud metadata (`az cloud register --endpoint-resource-manager <this>`). */
  @Get('metadata/endpoints')
  metadata(@Req() req: FastifyRequest) {
    const base = this.address.baseOf(req);
    const host = new URL(base).host;
    return {
      name: 'CeruleanLocal',
      portal: base,
      authentication: {
        loginEndpoint: base,
        audiences: ['https://management.core.windows.net/', `${base}/`],
        tenant: 'common',
        identityProvider: 'AAD',
      },
      media: base,
      graphAudience: `${base}/`,
      graph: `${base}/`,
      microsoftGraphResourceId: `${base}/`,
      resourceManager: `${base}/`,
      batch: `${base}/`,
      sqlManagement: `${base}/`,
      vmImageAliasDoc: `${base}/aliases.json`,
      gallery: `${base}/`,
      suffixes: {
        acrLoginServer: `azurecr.${host.split(':')[0]}`,
        keyVaultDns: `vault.${host.split(':')[0]}`,
        storage: host.split(':')[0],
        sqlServerHostname: host.split(':')[0],
      },
    };
  }

  private async token(
    version: 1 | 2,
    tenant: string,
    form: Form,
    auth: string | undefined,
    req: FastifyRequest,
    reply: FastifyReply,
    resource: () => ScopeResult,
  ) {
    if (!this.knownTenant(tenant)) return this.oauthError(reply, 400, 'invalid_request', this.tenantNotFound(tenant), 90002);
    if (form.grant_type !== 'client_credentials') {
      return this.oauthError(
        reply,
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${form.grant_type ?? ''}'. Only client_credentials is supported.`,
        70003,
      );
    }
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = parseBasicCredentials(auth);
    if (basic && 'malformed' in basic) {
      // RFC 6749 5.2: a failed Authorization header authentication is 401 with a challenge of its scheme.
      void reply.header('www-authenticate', `Basic realm="${this.env.TENANT_ID}"`);
      return this.oauthError(
        reply,
        401,
        'invalid_client',
        `AADSTS50012: Invalid client credentials in the Authorization header: ${basic.malformed}. client_secret_basic is 'Basic ' and the base64 of the URL-encoded client id and secret joined by ':'.`,
        50012,
      );
    }
    if (basic) {
      clientId ??= basic.clientId;
      secret ??= basic.secret;
    }
    if (!clientId)
      return this.oauthError(reply, 400, 'invalid_request', "AADSTS900144: The request body must contain the following parameter: 'client_id'.", 900144);
    if (!secret) {
      return this.oauthError(
        reply,
        401,
        'invalid_client',
        "AADSTS7000216: 'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        7000216,
      );
    }
    const target = resource();
    if ('error' in target)
      return this.oauthError(
        reply,
        400,
        target.error === 'invalid_scope' ? 'invalid_scope' : 'invalid_resource',
        target.description,
        target.error === 'invalid_scope' ? 1002012 : 500011,
      );
    const result = await this.authenticator.authenticate(clientId, secret, this.address.clientAddress(req));
    if (!result.ok) {
      if (result.reason === 'throttled') {
        // Entra answers client credentials it throttles with 429 and Retry-After (MSAL waits that long).
        void reply.header('retry-after', String(result.retryAfterSeconds));
        return this.oauthError(
          reply,
          429,
          'temporarily_unavailable',
          `AADSTS50196: The server terminated an operation because it encountered a client request loop: too many failed sign-ins for this client or from this address. Retry after ${result.retryAfterSeconds} second(s).`,
          50196,
        );
      }
      if (result.reason === 'unknown_client') {
        return this.oauthError(
          reply,
          400,
          'unauthorized_client',
          `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${this.env.TENANT_ID}'.`,
          700016,
        );
      }
      if (result.reason === 'expired_secret') {
        return this.oauthError(reply, 401, 'invalid_client', `AADSTS7000222: The provided client secret keys for app '${clientId}' are expired.`, 7000222);
      }
      return this.oauthError(
        reply,
        401,
        'invalid_client',
        `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        7000215,
      );
    }
    const { token, claims } = this.identity.mint({ appId: result.principal.appId, objectId: result.principal.id, resource: target.resource, version });
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const common = { token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS, ext_expires_in: TOKEN_LIFETIME_SECONDS, access_token: token };
    if (version === 2) return common;
    return {
      ...common,
      expires_in: String(TOKEN_LIFETIME_SECONDS),
      ext_expires_in: String(TOKEN_LIFETIME_SECONDS),
      expires_on: String(claims.exp),
      not_before: String(claims.nbf),
      resource: target.resource,
    };
  }

  private knownTenant(tenant: string): boolean {
    return (
      TENANT_ALIASES.has(tenant.toLowerCase()) || tenant.toLowerCase() === this.env.TENANT_ID.toLowerCase() || tenant.toLowerCase() === 'cerulean.localhost'
    );
  }

  /** Endpoints keep the segment the client used (MSAL takes the tenant from the token endpoint's first segment). */
  private tenantSegment(tenant: string): string {
    return TENANT_ALIASES.has(tenant.toLowerCase()) ? tenant.toLowerCase() : this.env.TENANT_ID;
  }

  /** Like Entra, multi-tenant documents name `{tenantid}` in the issuer; a tenant's own names it. */
  private issuerTenant(tenant: string): string {
    return TENANT_ALIASES.has(tenant.toLowerCase()) ? '{tenantid}' : this.env.TENANT_ID;
  }

  private tenantNotFound(tenant: string): string {
    return `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`;
  }

  private oauthError(reply: FastifyReply, status: number, error: string, description: string, code: number) {
    void reply.status(status).header('cache-control', 'no-store');
    const traceId = randomUUID();
    return {
      error,
      error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${traceId}\r\nTimestamp: ${new Date().toISOString().replace('T', ' ').slice(0, 19)}Z`,
      error_codes: [code],
      timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
      trace_id: traceId,
      correlation_id: traceId,
    };
  }
}

function asForm(body: unknown): Form {
  if (!body || typeof body !== 'object') return {};
  const out: Form = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}
