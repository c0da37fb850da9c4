import { Module } from '@nestjs/common';
import { OAuth2Module } from '../oauth2/oauth2.module.js';
import { ConnectorRegistry } from './connector-registry.js';
import { ClaimsMapper } from './mapping/claims-mapper.service.js';
import { BackchannelLogoutController } from './oidc/backchannel-logout.controller.js';

/**
 * Upstream identity providers: the connector registry (one connector per configured provider),
 * claims mapping, and the inbound logout receivers that belong to a protocol (OIDC back-channel
 * logout here; SAML SLO and CAS SLO in their folders). The login module drives sign-ins through
 * ConnectorRegistry and ClaimsMapper; inbound logouts end sessions through OAuth2Module's
 * SessionTerminator.
 */
@Module({
  imports: [OAuth2Module],
  controllers: [BackchannelLogoutController],
  providers: [ConnectorRegistry, ClaimsMapper],
  exports: [ConnectorRegistry, ClaimsMapper],
})
export class UpstreamModule {}
