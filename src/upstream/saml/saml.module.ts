import { Module } from '@nestjs/common';
import { UpstreamModule } from '../upstream.module.js';
import { OAuth2Module } from '../../oauth2/oauth2.module.js';
import { SamlController } from './saml.controller.js';
import { DiscoveryController } from './federation/discovery.controller.js';

/**
 * Upstream SAML 2.0 besides the connector itself (built and started by the connector registry):
 * the SP metadata endpoint, Single Logout in both directions, and the discovery page of
 * federation providers.
 */
@Module({
  imports: [UpstreamModule, OAuth2Module],
  controllers: [SamlController, DiscoveryController],
})
export class SamlModule {}
