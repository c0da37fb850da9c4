import { Controller, Get, Header, Inject } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { GatewayConfig } from '../../config/config.schema.js';
import { KeyStore } from '../../crypto/key-store.js';
import { AUTH_METADATA_CACHE_CONTROL, discoveryDocument } from './discovery.document.js';

@Controller()
export class DiscoveryController {
  private readonly document: Record<string, unknown>;
  private readonly jwks: unknown;

  constructor(@Inject(CONFIG) config: GatewayConfig, keys: KeyStore) {
    this.document = discoveryDocument(config, keys.algorithms);
    this.jwks = keys.jwks;
  }

  @Get('.well-known/openid-configuration')
  @Header('Cache-Control', AUTH_METADATA_CACHE_CONTROL)
  openidConfiguration() {
    return this.document;
  }

  /** Alias some RFC 8414 clients use. */
  @Get('.well-known/oauth-authorization-server')
  @Header('Cache-Control', AUTH_METADATA_CACHE_CONTROL)
  oauthAuthorizationServer() {
    return this.document;
  }

  @Get('oauth2/keys.json')
  @Header('Cache-Control', 'public, max-age=600')
  keys() {
    return this.jwks;
  }
}
