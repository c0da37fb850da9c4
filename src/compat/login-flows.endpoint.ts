import { Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { sendJson } from './compat-http.js';

/** The `brand` values of the Matrix spec's registry; other brands of ours are picker styling only. */
const MATRIX_BRANDS = new Set(['apple', 'facebook', 'github', 'gitlab', 'google', 'twitter']);

/**
 * `GET /_matrix/client/{version}/login` (docs/contracts/matrix-clients.md §10, docs/contracts/synapse.md
 * §5.2): SSO (with MSC3824's "this server prefers OAuth-aware clients", stable and unstable names)
 * listing the upstream providers in picker order, and `m.login.token` to finish it. No
 * `m.login.password`: Causeway has no passwords.
 */
@Injectable()
export class LoginFlowsEndpoint {
  constructor(private readonly connectors: ConnectorRegistry) {}

  async handle(_req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const identityProviders = this.connectors.list().map((p) => ({ id: p.id, name: p.name, ...(p.brand && MATRIX_BRANDS.has(p.brand) ? { brand: p.brand } : {}) }));
    sendJson(reply, 200, {
      flows: [
        {
          type: 'm.login.sso',
          identity_providers: identityProviders,
          oauth_aware_preferred: true,
          'org.matrix.msc3824.delegated_oidc_compatibility': true,
        },
        { type: 'm.login.token' },
      ],
    });
  }
}
