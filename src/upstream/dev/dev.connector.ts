import { z } from 'zod';
import { UpstreamError, type Assertion, type BeginResult, type CallbackRequest, type UpstreamConnector, type UpstreamLoginContext } from '../connector.js';
import type { DevProviderConfig } from './dev.config.js';
import { msg } from '../../web/i18n/message.js';
import { upstreamUrls } from '../upstream-urls.js';

const form = z.object({
  state: z.string().min(1),
  username: z
    .string()
    .transform((s) => s.trim())
    .pipe(z.string().min(1, 'upstream.dev_username_missing').max(255, 'upstream.dev_username_too_long')),
  displayName: z
    .string()
    .optional()
    .transform((s) => s?.trim() || undefined)
    .pipe(z.string().max(256).optional()),
});

/**
 * The dev sign-in (`kind: dev`, refused by the config unless `dev_mode: true`): a local username
 * form instead of an IdP, driven through the same connector contract as OIDC, SAML and CAS.
 * `begin` sends the browser to the form with the login's state; the form posts back to the
 * generic callback; `complete` returns the username as the subject.
 */
export class DevConnector implements UpstreamConnector {
  constructor(
    readonly provider: DevProviderConfig,
    private readonly publicBase: string,
  ) {}

  async begin(ctx: UpstreamLoginContext): Promise<BeginResult> {
    const url = new URL(upstreamUrls(this.publicBase, this.provider.id).devLogin);
    url.searchParams.set('state', ctx.state);
    if (ctx.loginHint) url.searchParams.set('login_hint', ctx.loginHint);
    if (ctx.prompt.includes('create')) url.searchParams.set('create', '1');
    return { redirectUrl: url.href, saved: {} };
  }

  extractState(req: CallbackRequest): string | undefined {
    const state = req.method === 'POST' ? req.body.state : req.query.state;
    return state || undefined;
  }

  async complete(req: CallbackRequest): Promise<Assertion> {
    if (req.method !== 'POST') throw new UpstreamError('malformed', msg('upstream.dev_not_submitted'));
    const parsed = form.safeParse(req.body);
    if (!parsed.success) {
      const username = parsed.error.issues.find((i) => i.path[0] === 'username')?.message;
      throw new UpstreamError('malformed', msg(username === 'upstream.dev_username_missing' || username === 'upstream.dev_username_too_long' ? username : 'upstream.dev_incomplete'));
    }
    const { username, displayName } = parsed.data;
    return {
      providerId: this.provider.id,
      subject: username,
      attributes: { username, ...(displayName ? { displayName } : {}) },
    };
  }
}

/** Factory for the connector registry (`kind: dev`). */
export function createDevConnector(provider: DevProviderConfig, deps: { publicBase: string }): UpstreamConnector {
  return new DevConnector(provider, deps.publicBase);
}
