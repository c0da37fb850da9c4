import { Controller, Get, Inject, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { CONFIG } from '../../../config/config.module.js';
import type { GatewayConfig } from '../../../config/config.schema.js';
import { LOGGER } from '../../../http/logger.module.js';
import { cookieOptions, readSignedCookie } from '../../../web/cookies.js';
import { PageError } from '../../../web/page-error.js';
import { PageRenderer } from '../../../web/page-renderer.js';
import { UpstreamError } from '../../connector.js';
import { ConnectorRegistry } from '../../connector-registry.js';
import { SamlConnector } from '../saml.connector.js';
import type { DiscoveryItem } from './federation-index.js';

const PAGE_SIZE = 20;

const pageQuery = z.object({
  s: z.string().max(64).default(''),
  q: z
    .string()
    .default('')
    .transform((q) => q.slice(0, 200)),
  page: z.coerce.number().int().min(1).max(10_000).catch(1).default(1),
});
/** The choice, from the page's links or from a WAYF (SAML IdP Discovery protocol, returnIDParam=entityID). */
const chooseQuery = z.object({ s: z.string().max(64).default(''), entityID: z.string().min(1).max(1024).optional() });

/** A malformed query (repeated or oversized parameters) is a page, never a 500. */
function parseQuery<T extends z.ZodType>(schema: T, raw: unknown): z.output<T> {
  const r = schema.safeParse(raw ?? {});
  if (!r.success) throw new PageError(400, 'error.title.bad_request', 'discovery.expired', { reason: 'discovery_bad_query' });
  return r.data;
}

/**
 * The discovery page of a SAML federation provider (the IdP picker, SAML IdP Discovery Service
 * profile in spirit): server-side search by organisation name, domain (scope, DomainHint, an email
 * address) or entity ID, paged, with mdui display names and logos (https URLs the browser loads;
 * Causeway never fetches them), and the last choice remembered in a cookie. Plain links and a GET
 * form: it works without JavaScript. `choose` is also the `return` address an external WAYF
 * sends the browser back to.
 */
@Controller('upstream/:provider/saml/discovery')
export class DiscoveryController {
  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly renderer: PageRenderer,
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private connector(id: string): SamlConnector {
    const found = /^[a-z0-9][a-z0-9_-]{0,63}$/.test(id) ? this.registry.get(id) : undefined;
    const c = found instanceof SamlConnector ? found : undefined;
    if (!c || !c.provider.federation) throw new PageError(404, 'error.title.page_not_found', 'error.no_saml_idp');
    return c;
  }

  private cookieName(id: string) {
    return `causeway_idp_${id.replace(/-/g, '_')}`;
  }

  private async session(c: SamlConnector, token: string) {
    const s = await c.discoverySession(token);
    if (!s) throw new PageError(400, 'error.title.sign_in_expired', 'discovery.expired', { reason: 'discovery_expired' });
    return s;
  }

  @Get()
  async page(@Param('provider') id: string, @Query() raw: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const c = this.connector(id);
    const q = parseQuery(pageQuery, raw);
    await this.session(c, q.s);
    const index = c.federationIndex();
    if (!index) throw new PageError(503, 'error.title.temporarily_unavailable', 'discovery.unavailable', { reason: 'federation_unavailable' });
    const lang = this.renderer.languageOf(req).tag;
    const { total, items } = index.search(q.q, lang, q.page, PAGE_SIZE);
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    const page = Math.min(q.page, pages);
    const href = (p: number) => `${c.discoveryUrl}?${new URLSearchParams({ s: q.s, ...(q.q ? { q: q.q } : {}), ...(p > 1 ? { page: String(p) } : {}) })}`;
    const choose = (i: DiscoveryItem) => ({ ...i, href: `${c.discoveryUrl}/choose?${new URLSearchParams({ s: q.s, entityID: i.entityId })}` });
    const rememberedId = readSignedCookie(req, this.cookieName(id));
    const rememberedEntity = rememberedId ? index.get(rememberedId) : undefined;
    await this.renderer.send(reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer'), 'saml-discovery', 200, {
      provider_name: c.provider.name,
      action: c.discoveryUrl,
      session: q.s,
      query: q.q,
      total,
      items: items.map(choose),
      page,
      pages,
      ...(page > 1 ? { previous_href: href(page - 1) } : {}),
      ...(page < pages ? { next_href: href(page + 1) } : {}),
      ...(rememberedEntity && !q.q && page === 1 ? { remembered: choose(index.item(rememberedEntity, lang)) } : {}),
    });
  }

  @Get('choose')
  async choose(@Param('provider') id: string, @Query() raw: unknown, @Res() reply: FastifyReply) {
    const c = this.connector(id);
    const q = parseQuery(chooseQuery, raw);
    const session = await this.session(c, q.s);
    // A WAYF that returns without a choice: our own page instead.
    if (!q.entityID)
      return reply
        .status(303)
        .header('Location', `${c.discoveryUrl}?s=${encodeURIComponent(q.s)}`)
        .header('Cache-Control', 'no-store')
        .send();
    let next;
    try {
      next = await c.chooseIdp(session, q.entityID);
    } catch (e) {
      if (e instanceof UpstreamError) {
        this.logger.info({ provider: id, cause: e.cause }, 'federation IdP refused');
        throw new PageError(e.status, 'error.title.sign_in_failed', e.userMessage, { reason: 'federation_idp_refused' });
      }
      throw e;
    }
    const days = c.provider.federation!.remember_days;
    if (days > 0) reply.setCookie(this.cookieName(id), q.entityID, { ...cookieOptions(this.config, days * 86400) });
    if (next.redirectUrl) return reply.status(303).header('Location', next.redirectUrl).header('Cache-Control', 'no-store').send();
    // HTTP-POST binding: a form the person submits (no script needed).
    const index = c.federationIndex();
    const entity = index?.get(q.entityID);
    await this.renderer.send(reply.header('Cache-Control', 'no-store'), 'upstream-continue', 200, {
      provider: { name: entity ? index!.item(entity, 'en').name : q.entityID },
      form_post: { url: next.formPost!.url, fields: Object.entries(next.formPost!.fields).map(([name, value]) => ({ name, value })) },
      others: [],
    });
  }
}
