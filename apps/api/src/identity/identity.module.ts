import { Module } from '@nestjs/common';
import { PublicAddress } from '../common/public-address';
import { BootstrapPrincipal } from './bootstrap-principal';
import { ClientAuthenticator } from './client-authenticator';
import { IdentityService } from './identity.service';
import { PrincipalLiveness } from './principal-liveness';
import { PrincipalsController } from './principals.controller';
import { PrincipalsService } from './principals.service';
import { TokenController } from './token.controller';

/** The token authority and the service principals (issue 7). */
@Module({
  controllers: [TokenController, PrincipalsController],
  providers: [IdentityService, PrincipalsService, BootstrapPrincipal, PublicAddress, ClientAuthenticator, PrincipalLiveness],
  exports: [IdentityService, PrincipalsService, BootstrapPrincipal, PublicAddress, PrincipalLiveness],
})
export class IdentityModule {}
