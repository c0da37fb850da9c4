import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CONFIG } from '../config/config.module.js';
import type { GatewayConfig } from '../config/config.schema.js';
import { ConnectorRegistry } from '../upstream/connector-registry.js';
import { singleValues } from '../web/form.js';
import { PageError } from '../web/page-error.js';
import { checkRedirectUrl } from '../login/sso-redirect-url.js';
import { SsoRequests } from './sso-requests.js';

/** Path of the page where a compat SSO login continues on Causeway's own host (MAS's URL). */
export const completeCompatSsoPath = (id: string) => `complete-compat-sso/${id}`;

const ACTIONS = new Set(['login', 'register']);

/**
 * `GET /_matrix/client/{version}/login/sso/redirect[/][/{idp}]?redirectUrl=…[&action=…]`
 * (docs/contracts/synapse.md §5.2; SPEC `sso_login_redirect.yaml`). Browsers arrive here through
 * the homeserver's host, so nothing is bound to the browser yet: the validated request is stored and
 * the browser is sent (303) to `/complete-compat-sso/{id}` on Causeway's host. A missing or invalid
 * `redirectUrl` (userinfo included) is a 400 page. `action` (or MSC3824's unstable twin, which
 * matrix-js-sdk sends as well) `register` shows the sign-up screen; unknown values are ignored. An
 * `{idp}` naming one of the providers (by id, or by the Synapse IdP id it replaces) skips the picker;
 * an unknown one is ignored.
 */
@Injectable()
export class LoginSsoRedirectEndpoint {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    private readonly connectors: ConnectorRegistry,
    private readonly requests: SsoRequests,
  ) {}

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const query = singleValues(req.query);
    const check = checkRedirectUrl(query.redirectUrl);
    if (!check.ok) {
      throw new PageError(400, 'error.title.sign_in_request_invalid', check.reason === 'missing' ? 'error.compat_redirect_missing' : 'error.compat_redirect_invalid', {
        reason: `redirect_url_${check.reason}`,
      });
    }
    const action = [query.action, query['org.matrix.msc3824.action']].find((a) => a !== undefined && ACTIONS.has(a)) as 'login' | 'register' | undefined;
    const idp = (req.params as { idp?: string }).idp;
    const providerId = idp ? this.provider(idp) : undefined;
    const id = await this.requests.create({ redirectUrl: check.url.href, ...(action ? { action } : {}), ...(providerId ? { providerId } : {}) });
    void reply
      .status(303)
      .header('Cache-Control', 'no-store')
      .header('Location', `${this.config.http.public_base}${completeCompatSsoPath(id)}`)
      .send();
  }

  /** A provider by its id, or by the `synapse_idp_id` a migrated client may still have cached. */
  private provider(idp: string): string | undefined {
    const providers = this.connectors.list();
    return (providers.find((p) => p.id === idp) ?? providers.find((p) => p.synapse_idp_id === idp))?.id;
  }
}
