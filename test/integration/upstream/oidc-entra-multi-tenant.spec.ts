import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SHARED_SECRET, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { Browser, forms, textOf } from '../../support/browser.js';
import { CausewayDb } from '../../support/causeway-db.js';
import { startHomeserverStandin, type HomeserverStandin } from '../../support/homeserver-standin.js';
import { startEntraStandin, type EntraStandin } from '../../support/entra-standin.js';
import { freePort } from '../../support/ports.js';
import { registerClient } from '../oauth2/oauth-http.js';
import { authorizeUrl, codeOf, decide, exchange, pkce, toClient, webClient } from '../login/login-flow.js';

/**
 * Entra ID multi-tenant (`multi_tenant`), end to end through Causeway against the Entra stand-in
 * (test/support/entra-standin.ts: the `organizations` discovery whose issuer is the
 * `{tenantid}` template, ID tokens signed by the stand-in's key from its JWKS, `iss` naming the
 * token's tenant). A token of an allowed tenant signs in; another tenant's is refused with a page
 * and an audit row; a token whose `iss` names another tenant than its `tid` is refused; a template
 * that does not match the discovered issuer makes the provider unavailable, never lenient.
 */

const CONTOSO = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const FABRIKAM = '0b5d6c1e-3f1a-4e8b-9a43-5f1c2e7d9b10';
let entra: EntraStandin;
let hs: HomeserverStandin;
let cw: CausewayProcess;
let clientId: string;

beforeAll(async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/`;
  entra = await startEntraStandin();
  entra.addApp({ clientId: 'entra-app', clientSecret: 'entra-secret', redirectUri: `${base}upstream/entra/callback` });
  entra.addApp({ clientId: 'entra-app-2', clientSecret: 'entra-secret', redirectUri: `${base}upstream/entra-misconfigured/callback` });
  entra.addAccount({ username: 'alice@contoso.example', name: 'Alice Contoso', tenantId: CONTOSO, email: 'alice@contoso.example' });
  entra.addAccount({ username: 'bob@fabrikam.example', name: 'Bob Fabrikam', tenantId: FABRIKAM, email: 'bob@fabrikam.example' });
  entra.addAccount({ username: 'carol@contoso.example', name: 'Carol Contoso', tenantId: CONTOSO });
  hs = await startHomeserverStandin({ serverName: 'example.test', endpoint: base, secret: SHARED_SECRET });
  const entraProvider = (id: string, client: string, template: string) => ({
    // As config/oidc-entra.example.yaml, pointed at the stand-in.
    id,
    kind: 'oidc',
    name: 'Microsoft',
    brand: 'microsoft',
    issuer: `${entra.url}/organizations/v2.0`,
    client_id: client,
    client_secret: 'entra-secret',
    token_endpoint_auth_method: 'client_secret_post',
    scopes: ['openid', 'profile', 'email'],
    fetch_userinfo: false,
    multi_tenant: { issuer_template: template, tenants: [CONTOSO.toUpperCase()] },
    claims: {
      localpart: { template: '{{ user.preferred_username | split: "@" | first }}' },
      displayname: { template: '{{ user.name }}' },
      email: { template: '{{ user.email }}' },
    },
    allow_insecure_http: true,
  });
  cw = await startCauseway({
    port,
    config: {
      matrix: { homeserver: 'example.test', endpoint: `${hs.url}/`, secret: SHARED_SECRET },
      upstream: {
        providers: [entraProvider('entra', 'entra-app', `${entra.url}/{tid}/v2.0`), entraProvider('entra-misconfigured', 'entra-app-2', `${entra.url}/tenants/{tid}/v2.0`)],
      },
    },
  });
  hs.setEndpoint(cw.issuer);
  clientId = await registerClient(cw.url, webClient('Entra test app'));
}, 600_000);

afterAll(async () => {
  await cw?.dispose();
  await hs?.stop();
  await entra?.close();
  if (cw) expect(cw.logs.filter((l) => l.includes('"status":500') || l.includes('unhandled error'))).toEqual([]);
});

/** Causeway → the stand-in's account picker → back through Causeway, as `username`. */
async function signIn(username: string, provider = 'entra') {
  const browser = new Browser();
  const p = pkce();
  const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra: { provider } }), {}, toClient);
  expect(res.url.startsWith(`${entra.url}/organizations/oauth2/v2.0/authorize`)).toBe(true);
  const [picker] = forms(res.body, res.url);
  let back = await browser.submit(picker!, { account: username }, toClient);
  if (!back.stoppedAt && back.status === 200 && forms(back.body, back.url).some((f) => f.action.endsWith('/consent'))) back = await decide(browser, back, 'allow');
  return { res: back, verifier: p.verifier };
}

async function auditOf(reason: string) {
  const db = await CausewayDb.open(cw.database);
  try {
    const rows = (await db.ds.query(`SELECT action, actor, details FROM audit_log WHERE action = 'login.attempt'`)) as { action: string; actor: string; details: unknown }[];
    return rows.map((r) => ({ ...r, details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown> })).filter((r) => r.details.reason === reason);
  } finally {
    await db.ds.destroy();
  }
}

describe('Entra ID multi-tenant (multi_tenant)', () => {
  it('signs in a person of an allowed tenant: iss checked against the template filled with the token’s tid', async () => {
    const { res, verifier } = await signIn('alice@contoso.example');
    expect(res.stoppedAt).toBeDefined();
    const { code, error } = codeOf(res.stoppedAt!);
    expect(error).toBeNull();
    expect((await exchange(cw.url, clientId, code!, verifier)).status).toBe(200);
    expect(hs.user('alice')?.displayName).toBe('Alice Contoso');
    // Discovery read at the shared endpoint's well-known URL, the key from the stand-in's JWKS.
    expect(entra.requests.some((r) => r.path === '/organizations/v2.0/.well-known/openid-configuration')).toBe(true);
    expect(entra.requests.some((r) => r.path === '/organizations/discovery/v2.0/keys')).toBe(true);
  });

  it('refuses a person of a tenant not on the list, with a page saying so and an audit row', async () => {
    const { res } = await signIn('bob@fabrikam.example');
    expect(res.status).toBe(403);
    expect(textOf(res.body)).toContain('Accounts of your organisation cannot sign in with “Microsoft” here');
    expect(hs.user('bob')).toBeUndefined();
    const rows = await auditOf('tenant_not_allowed');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'anonymous', details: { provider: 'entra', outcome: 'failure', reason: 'tenant_not_allowed' } });
    expect(cw.logs.some((l) => l.includes('tenant not on multi_tenant.tenants') && l.includes(FABRIKAM))).toBe(true);
  });

  it('refuses a token of an allowed tenant whose iss names another tenant (signed with the real key)', async () => {
    entra.forgeIssuerTenant = FABRIKAM;
    const { res } = await signIn('carol@contoso.example');
    expect(res.status).toBe(400);
    expect(hs.user('carol')).toBeUndefined();
    expect((await auditOf('issuer_mismatch')).length).toBe(1);
  });

  it('a template that does not match the discovered issuer leaves the provider unavailable (not lenient)', async () => {
    const browser = new Browser();
    const p = pkce();
    const res = await browser.go(authorizeUrl(cw.url, { clientId, challenge: p.challenge, extra: { provider: 'entra-misconfigured' } }), {}, toClient);
    expect(res.url.startsWith(entra.url)).toBe(false);
    expect(res.status).toBe(503);
    expect(cw.logs.some((l) => l.includes('is not multi_tenant.issuer_template'))).toBe(true);
  });
});
