import { ArmError } from '@cerulean/arm';
import { ServicePrincipalEntity, ServicePrincipalSecretEntity } from '@cerulean/domain';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { WithoutApiVersion } from '../common/api-version.guard';
import { IssuedSecret, PrincipalsService, PrincipalWithSecrets } from './principals.service';

/** Graph's passwordCredential; `secretText` only in the answer that created it. */
const toPassword = (s: ServicePrincipalSecretEntity, secretText: string | null = null) => ({
  keyId: s.keyId,
  displayName: s.displayName,
  hint: s.hint,
  startDateTime: s.startAt.toISOString(),
  endDateTime: s.endAt.toISOString(),
  secretText,
});

const toPrincipal = (p: ServicePrincipalEntity, secrets: ServicePrincipalSecretEntity[]) => ({
  id: p.id,
  appId: p.appId,
  displayName: p.displayName,
  appOwnerOrganizationId: p.tenantId,
  servicePrincipalType: 'Application',
  accountEnabled: true,
  createdDateTime: p.createdAt.toISOString(),
  isBootstrap: p.isBootstrap,
  passwordCredentials: secrets.map((s) => toPassword(s)),
});

const withSecret = (r: PrincipalWithSecrets & IssuedSecret) => ({
  ...toPrincipal(r.principal, r.secrets),
  passwordCredentials: r.secrets.map((s) => toPassword(s, s.keyId === r.secret.keyId ? r.secretText : null)),
});

const str = (body: unknown, key: string): string | undefined => {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  if (v !== undefined && v !== null && typeof v !== 'string') throw ArmError.badRequest('Request_BadRequest', `'${key}' must be a string.`);
  return (v as string | null | undefined) ?? undefined;
};

/**
 * Service principals, in Microsoft Graph's shape (`/v1.0/servicePrincipals`): create (the answer carries the
 * first secret's text, once), list, get, delete, and the secrets: addPassword / removePassword, plus
 * `rotatePassword` (a Cerulean extension: one new secret replaces all the others atomically).
 * Authorized like any other route (see authorization/route-actions.ts): the caller needs the action at `/`.
 */
@Controller('v1.0/servicePrincipals')
@WithoutApiVersion()
export class PrincipalsController {
  constructor(private readonly principals: PrincipalsService) {}

  @Get()
  async list() {
    return { value: (await this.principals.list()).map((p) => toPrincipal(p.principal, p.secrets)) };
  }

  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown) {
    const displayName = str(body, 'displayName');
    if (!displayName || displayName.trim() === '' || displayName.length > 256) {
      throw ArmError.badRequest('Request_BadRequest', "Property 'displayName' is required: a non-empty string of at most 256 characters.");
    }
    return withSecret(await this.principals.create(displayName.trim()));
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const p = await this.principals.get(id);
    return toPrincipal(p.principal, p.secrets);
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Param('id') id: string): Promise<void> {
    await this.principals.delete(id);
  }

  @Post(':id/addPassword')
  @HttpCode(200)
  async addPassword(@Param('id') id: string, @Body() body: unknown) {
    const cred = body && typeof body === 'object' ? (body as Record<string, unknown>).passwordCredential : undefined;
    const displayName = str(cred, 'displayName');
    const end = str(cred, 'endDateTime');
    const endAt = end === undefined ? undefined : new Date(end);
    if (endAt && (Number.isNaN(endAt.getTime()) || endAt.getTime() <= Date.now())) {
      throw ArmError.badRequest('Request_BadRequest', "'endDateTime' must be a date-time in the future.");
    }
    const issued = await this.principals.addPassword(id, { displayName, endAt });
    return toPassword(issued.secret, issued.secretText);
  }

  @Post(':id/removePassword')
  @HttpCode(204)
  async removePassword(@Param('id') id: string, @Body() body: unknown): Promise<void> {
    const keyId = str(body, 'keyId');
    if (!keyId) throw ArmError.badRequest('Request_BadRequest', "Property 'keyId' is required.");
    await this.principals.removePassword(id, keyId);
  }

  @Post(':id/rotatePassword')
  @HttpCode(200)
  async rotatePassword(@Param('id') id: string) {
    return withSecret(await this.principals.rotate(id));
  }
}
