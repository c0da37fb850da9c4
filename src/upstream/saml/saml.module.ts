import { Module } from '@nestjs/common';
import { SamlConnectors } from './saml-connectors.service.js';
import { SamlController } from './saml.controller.js';

/** Upstream SAML 2.0: the connectors (for the login module), SP metadata and Single Logout endpoints. */
@Module({
  controllers: [SamlController],
  providers: [SamlConnectors],
  exports: [SamlConnectors],
})
export class SamlModule {}
