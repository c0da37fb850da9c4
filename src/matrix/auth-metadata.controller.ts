import { Controller, Get, Header, Inject } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { KeyStore } from '../crypto/key-store.js';
import { AUTH_METADATA_CACHE_CONTROL, discoveryDocument } from '../oauth2/discovery/discovery.document.js';

/**
 * The homeserver-facing discovery paths (MSC2965): the same document as
 * /.well-known/openid-configuration, served here so a reverse proxy can route them to Causeway
 * (or a homeserver stand-in can proxy them), plus the legacy `auth_issuer` for matrix-js-sdk ≤ 41.
 */
@Controller('_matrix/client')
export class AuthMetadataController {
  private readonly document: Record<string, unknown>;

  constructor(@Inject(CONFIG) config: GatewayConfig, keys: KeyStore) {
    this.document = discoveryDocument(config, keys.algorithms);
  }

  @Get('v1/auth_metadata')
  @Header('Cache-Control', AUTH_METADATA_CACHE_CONTROL)
  stable() {
    return this.document;
  }

  @Get('unstable/org.matrix.msc2965/auth_metadata')
  @Header('Cache-Control', AUTH_METADATA_CACHE_CONTROL)
  unstable() {
    return this.document;
  }

  @Get('unstable/org.matrix.msc2965/auth_issuer')
  @Header('Cache-Control', AUTH_METADATA_CACHE_CONTROL)
  issuer() {
    return { issuer: this.document.issuer };
  }
}
