import { Module } from '@nestjs/common';
import { BootstrapPrincipal } from './bootstrap-principal';
import { IdentityService } from './identity.service';
import { PrincipalsController } from './principals.controller';
import { PrincipalsService } from './principals.service';
import { TokenController } from './token.controller';

/** The token authority and the service principals (issue 7). */
@Module({
  controllers: [TokenController, PrincipalsController],
  providers: [IdentityService, PrincipalsService, BootstrapPrincipal],
  exports: [IdentityService, PrincipalsService, BootstrapPrincipal],
})
export class IdentityModule {}
