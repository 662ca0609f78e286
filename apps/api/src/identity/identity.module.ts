import { Module } from '@nestjs/common';
import { PublicAddress } from '../common/public-address.service';
import { BearerTokenCheck } from './bearer-auth.guard';
import { BootstrapPrincipal } from './bootstrap-principal.service';
import { ClientAuthenticator } from './client-authenticator.service';
import { IdentityService } from './identity.service';
import { PrincipalLiveness } from './principal-liveness.service';
import { PrincipalsController } from './principals.controller';
import { PrincipalsService } from './principals.service';
import { TokenController } from './token.controller';

/** The token authority and the service principals (issue 7). */
@Module({
  controllers: [TokenController, PrincipalsController],
  providers: [IdentityService, PrincipalsService, BootstrapPrincipal, PublicAddress, ClientAuthenticator, PrincipalLiveness, BearerTokenCheck],
  exports: [IdentityService, PrincipalsService, BootstrapPrincipal, PublicAddress, PrincipalLiveness, BearerTokenCheck],
})
export class IdentityModule {}
