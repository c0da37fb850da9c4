import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { CasConnector } from '../../../../src/upstream/cas/cas.connector.js';
import { casProviderSchema } from '../../../../src/upstream/cas/cas.config.js';
import { UpstreamError, type CallbackRequest, type UpstreamLoginContext } from '../../../../src/upstream/connector.js';
import { CasXmlError } from '../../../../src/upstream/cas/cas-xml.js';
import { RedisKeyValueStore } from '../../../../src/storage/kv-store.js';
import { Browser } from '../../../support/browser.js';
import { ensurePeer, type Peer } from '../../../support/peers.js';
import { casLogin, casSuccess, startFakeCas, type FakeCas } from '../../../support/cas-peer.js';
import { english } from '../../../support/i18n.js';

/**
 * The connector in-process against the real django-cas-server (test/peers/cas-server): begin →
 * the CAS login form → the service URL with a ticket → complete. The Causeway server is not
 * involved (see test/e2e for the whole flow), so the service URL is never actually requested.
 */

const PUBLIC_BASE = 'http://127.0.0.1:9/';
let peer: Peer;
let redis: Redis;
let kv: RedisKeyValueStore;
let fake: FakeCas;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  peer = await ensurePeer('cas');
  redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  kv = new RedisKeyValueStore(redis, `causeway-test:cas-connector:${randomBytes(6).toString('hex')}:`);
  fake = await startFakeCas();
}, 600_000);

afterAll(async () => {
  const keys = await redis.keys(`${(kv as unknown as { prefix: string }).prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await fake.close();
});

function connector(overrides: Record<string, unknown> = {}) {
  const provider = casProviderSchema.parse({
    id: 'campus',
    kind: 'cas',
    name: 'Campus login',
    server_url: peer.url,
    allow_insecure_http: true,
    ...overrides,
  });
  return new CasConnector(provider, { publicBase: PUBLIC_BASE, kv, logger });
}

function loginContext(prompt: string[] = []): UpstreamLoginContext {
  return {
    loginId: randomBytes(8).toString('hex'),
    state: randomBytes(16).toString('base64url'),
    callbackUrl: `${PUBLIC_BASE}upstream/campus/callback`,
    prompt,
  };
}

/** The callback request the login module hands the connector (the service URL forwards state and ticket). */
function callback(returnedTo: string): CallbackRequest {
  const u = new URL(returnedTo);
  return { method: 'GET', url: returnedTo, query: Object.fromEntries(u.searchParams), body: {}, ip: '127.0.0.1' };
}

const atService = (url: string) => url.startsWith(`${PUBLIC_BASE}upstream/campus/cas/service`);

/** The document with its first "X" replaced by a byte that is never valid UTF-8. */
function invalidUtf8(xml: string): Buffer {
  const b = Buffer.from(xml);
  b[b.indexOf('X')] = 0xff;
  return b;
}

async function upstreamError(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UpstreamError) return e;
    throw e;
  }
  throw new Error('expected an UpstreamError');
}

/** begin → CAS login form (alice) → back at the service URL with a ticket. */
async function signIn(c: CasConnector, browser = new Browser(), prompt: string[] = []) {
  const ctx = loginContext(prompt);
  const begun = await c.begin(ctx);
  const back = await casLogin(browser, begun.redirectUrl!, atService);
  if (!back.stoppedAt) throw new Error(`CAS did not send the browser back (status ${back.status})`);
  return { ctx, saved: begun.saved, req: callback(back.stoppedAt), browser };
}

describe('CAS connector against django-cas-server', () => {
  it.each([3, 2] as const)(
    'signs alice in over CAS %i with her attributes, multi-valued ones not doubled',
    async (protocol) => {
      const c = connector({ protocol });
      const { ctx, saved, req } = await signIn(c);
      expect(req.query.state).toBe(ctx.state);
      expect(req.query.ticket).toMatch(/^ST-/);
      const a = await c.complete(req, saved, ctx);
      expect(a).toMatchObject({
        providerId: 'campus',
        subject: 'alice',
        upstreamSid: req.query.ticket,
        attributes: {
          user: 'alice',
          uid: 'alice',
          mail: 'alice@example.org',
          displayName: 'Alice Liddell',
          eduPersonAffiliation: ['member', 'staff'],
        },
      });
    },
    60_000,
  );

  it('sends the service URL with the state and asks for renew on prompt=login', async () => {
    const c = connector();
    const ctx = loginContext(['login']);
    const { redirectUrl, saved } = await c.begin(ctx);
    const u = new URL(redirectUrl!);
    expect(u.origin + u.pathname).toBe(`${peer.url}/login`);
    expect(u.searchParams.get('service')).toBe(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}`);
    expect(u.searchParams.get('renew')).toBe('true');
    expect(saved).toEqual({ service: u.searchParams.get('service'), renew: true });
    expect(c.extractState(callback(`${u.searchParams.get('service')}&ticket=ST-1`))).toBe(ctx.state);
  });

  it('re-asks for the password with prompt=login although alice has a CAS session', async () => {
    const c = connector();
    const { browser } = await signIn(c);
    // Single sign-on: no form the second time.
    const sso = await browser.go((await c.begin(loginContext())).redirectUrl!, {}, atService);
    expect(sso.stoppedAt).toBeDefined();
    // prompt=login: the form again, and validation with renew=true succeeds.
    const ctx = loginContext(['login']);
    const begun = await c.begin(ctx);
    const page = await browser.go(begun.redirectUrl!, {}, atService);
    expect(page.stoppedAt).toBeUndefined();
    expect(page.body).toContain('name="password"');
    const back = await casLogin(browser, begun.redirectUrl!, atService);
    const a = await c.complete(callback(back.stoppedAt!), begun.saved, ctx);
    expect(a.subject).toBe('alice');
  }, 60_000);

  it('gateway: without a CAS session the browser comes back without a ticket, refused clearly', async () => {
    const c = connector({ gateway: true });
    const ctx = loginContext();
    const begun = await c.begin(ctx);
    expect(new URL(begun.redirectUrl!).searchParams.get('gateway')).toBe('true');
    const back = await new Browser().go(begun.redirectUrl!, {}, atService);
    expect(back.stoppedAt).toBeDefined();
    expect(new URL(back.stoppedAt!).searchParams.get('ticket')).toBeNull();
    const e = await upstreamError(c.complete(callback(back.stoppedAt!), begun.saved, ctx));
    expect(e.kind).toBe('upstream_denied');
    expect(english(e.userMessage)).toMatch(/not signed in at Campus login/);
  }, 60_000);
});

describe('signing out of CAS too (upstream_logout)', () => {
  const session = { providerId: 'campus', subject: 'alice', upstreamSid: 'ST-1', details: null };
  const returnTo = `${PUBLIC_BASE}oauth2/end-session/done`;

  it('is off by default', async () => {
    expect(await connector().logoutUrl(session, { returnTo, state: 's1' })).toBeUndefined();
  });

  it('sends the browser to CAS /logout, which ends the CAS session and returns with the state', async () => {
    const c = connector({ upstream_logout: true });
    const { browser } = await signIn(c);
    const url = await c.logoutUrl(session, { returnTo, state: 'st-42' });
    expect(url).toBe(`${peer.url}/logout?service=${encodeURIComponent(`${returnTo}?state=st-42`)}`);
    const back = await browser.go(url!, {}, (u) => u.startsWith(returnTo));
    expect(back.stoppedAt).toBe(`${returnTo}?state=st-42`);
    // The CAS session is gone: the next sign-in shows the form again.
    const again = await browser.go((await c.begin(loginContext())).redirectUrl!, {}, atService);
    expect(again.stoppedAt).toBeUndefined();
    expect(again.body).toContain('name="password"');
  }, 60_000);

  it('names the return address `url` for CAS 2', async () => {
    const url = new URL((await connector({ upstream_logout: true, protocol: 2 }).logoutUrl(session, { returnTo, state: 's' }))!);
    expect(url.searchParams.get('url')).toBe(`${returnTo}?state=s`);
  });
});

describe('hostile input at the connector', () => {
  it('refuses a ticket issued for another service (another login) — the CAS server answers INVALID_SERVICE', async () => {
    const c = connector();
    const stolen = await signIn(c);
    const victim = loginContext();
    const victimSaved = (await c.begin(victim)).saved;
    const forged = callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${victim.state}&ticket=${stolen.req.query.ticket}`);
    const e = await upstreamError(c.complete(forged, victimSaved, victim));
    expect(e.kind).toBe('audience_mismatch');
    expect(e.status).toBe(400);
    expect(english(e.userMessage)).toBe('Campus login issued this sign-in ticket for a different service, so it cannot be used here. Please sign in again.');
    expect(e.cause).toMatchObject({ code: 'INVALID_SERVICE' });
  }, 60_000);

  it('refuses a ticket issued for an unrelated application', async () => {
    const c = connector();
    const browser = new Browser();
    const other = 'http://127.0.0.1:1/some-other-app/';
    const back = await casLogin(browser, `${peer.url}/login?service=${encodeURIComponent(other)}`, (u) => u.startsWith(other));
    const ticket = new URL(back.stoppedAt!).searchParams.get('ticket')!;
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const e = await upstreamError(c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=${ticket}`), saved, ctx));
    expect(e.kind).toBe('audience_mismatch');
  }, 60_000);

  it('refuses a replayed ticket on our side, before the server is asked', async () => {
    const c = connector();
    const { ctx, saved, req } = await signIn(c);
    await c.complete(req, saved, ctx);
    const e = await upstreamError(c.complete(req, saved, ctx));
    expect(e.kind).toBe('replayed');
    expect(english(e.userMessage)).toBe('This sign-in ticket from Campus login was already used. Please sign in again.');
  }, 60_000);

  it('refuses a replayed ticket even when the server would accept it again', async () => {
    const c = connector({ server_url: fake.url });
    fake.answer = casSuccess('mallory');
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const req = callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=ST-fake-replay-${randomBytes(4).toString('hex')}`);
    expect((await c.complete(req, saved, ctx)).subject).toBe('mallory');
    const before = fake.requests.length;
    expect((await upstreamError(c.complete(req, saved, ctx))).kind).toBe('replayed');
    expect(fake.requests.length).toBe(before);
  });

  it('validates with exactly the service string given at login, at /p3/serviceValidate or /serviceValidate', async () => {
    for (const protocol of [3, 2] as const) {
      const c = connector({ server_url: fake.url, protocol });
      fake.answer = casSuccess('alice');
      const ctx = loginContext();
      const { redirectUrl, saved } = await c.begin(ctx);
      await c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=ST-exact-${protocol}`), saved, ctx);
      const asked = fake.requests.at(-1)!;
      expect(asked.pathname).toBe(protocol === 3 ? '/cas/p3/serviceValidate' : '/cas/serviceValidate');
      expect(asked.searchParams.get('service')).toBe(new URL(redirectUrl!).searchParams.get('service'));
      expect(asked.searchParams.get('ticket')).toBe(`ST-exact-${protocol}`);
    }
  });

  it('keeps the CAS user as user.user even when an attribute named "user" is released', async () => {
    const c = connector({ server_url: fake.url });
    fake.answer = casSuccess('alice', '<cas:user>admin</cas:user><cas:mail>a@example.org</cas:mail>');
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const a = await c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=ST-user-attr`), saved, ctx);
    expect(a.subject).toBe('alice');
    expect(a.attributes).toEqual({ user: 'alice', mail: 'a@example.org' });
  });

  it.each([
    ['a DOCTYPE with an external entity', `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${casSuccess('&x;')}`, 'doctype'],
    ['a DOCTYPE with an internal entity', `<!DOCTYPE r [<!ENTITY who "admin">]>${casSuccess('&who;')}`, 'doctype'],
    ['an HTML error page', '<!DOCTYPE html><html><body>Bad gateway</body></html>', 'doctype'],
    ['not XML', 'yes\nalice\n', 'not_well_formed'],
    ['invalid UTF-8 in the user name', invalidUtf8(casSuccess('alXice')), 'not_well_formed'],
  ])('refuses a validation answer with %s (502, nothing signed in)', async (_what, body, reason) => {
    const c = connector({ server_url: fake.url });
    fake.answer = body;
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const e = await upstreamError(c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=ST-h-${randomBytes(4).toString('hex')}`), saved, ctx));
    expect(e.kind).toBe('malformed');
    expect(e.status).toBe(502);
    expect(english(e.userMessage)).toBe('Campus login sent an answer that Causeway cannot accept. Please try again later.');
    expect(e.cause).toBeInstanceOf(CasXmlError);
    expect((e.cause as CasXmlError).reason).toBe(reason);
  });

  it('refuses an oversized validation answer', async () => {
    const c = connector({ server_url: fake.url });
    fake.answer = casSuccess('alice', `<cas:x>${'y'.repeat(2 * 1024 * 1024)}</cas:x>`);
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const e = await upstreamError(c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=ST-big`), saved, ctx));
    expect(e.kind).toBe('malformed');
    expect(e.status).toBe(502);
  });

  it('gives up on a validation that does not answer within timeout_ms (504)', async () => {
    const c = connector({ server_url: fake.url, timeout_ms: 300 });
    fake.answer = 'stall';
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const e = await upstreamError(c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=ST-slow`), saved, ctx));
    expect(e.kind).toBe('upstream_unavailable');
    expect(e.status).toBe(504);
    expect(english(e.userMessage)).toBe('Campus login did not answer in time. Please try again in a moment.');
  });

  it('treats a non-200 validation answer as unavailable', async () => {
    const c = connector({ server_url: fake.url });
    fake.answer = casSuccess('alice');
    fake.status = 500;
    try {
      const ctx = loginContext();
      const saved = (await c.begin(ctx)).saved;
      const e = await upstreamError(c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}&ticket=ST-500`), saved, ctx));
      expect(e).toMatchObject({ kind: 'upstream_unavailable', status: 502 });
    } finally {
      fake.status = 200;
    }
  });

  it.each([
    ['no ticket', '', 'malformed'],
    ['a proxy ticket', '&ticket=PT-1-abc', 'malformed'],
    ['a repeated ticket parameter', '&ticket=ST-1&ticket=ST-2', 'malformed'],
  ])('refuses a callback with %s without asking the server', async (_what, extra, kind) => {
    const c = connector({ server_url: fake.url });
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const u = new URL(`${PUBLIC_BASE}upstream/campus/cas/service?state=${ctx.state}${extra}`);
    const query: Record<string, unknown> = {};
    for (const k of new Set(u.searchParams.keys())) {
      const all = u.searchParams.getAll(k);
      query[k] = all.length > 1 ? all : all[0];
    }
    const before = fake.requests.length;
    const e = await upstreamError(c.complete({ ...callback(u.href), query: query as Record<string, string> }, saved, ctx));
    expect(e.kind).toBe(kind);
    expect(fake.requests.length).toBe(before);
  });

  it('refuses a callback whose state is not the one of this login', async () => {
    const c = connector();
    const ctx = loginContext();
    const saved = (await c.begin(ctx)).saved;
    const e = await upstreamError(c.complete(callback(`${PUBLIC_BASE}upstream/campus/cas/service?state=other&ticket=ST-1`), saved, ctx));
    expect(e.kind).toBe('state_mismatch');
  });
});
