// The README's "Try a login", done literally: the shipped config/gateway.example.yaml (only its port
// moved), the client registration body and authorization URL copied out of README.md, the dev
// sign-in and consent, then the code exchanged as the README's curl does. No homeserver runs:
// the example's `matrix.api: none` is what lets the login finish.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Browser, textOf } from '../../support/browser.js';
import { ROOT, startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { decide, devSignIn, onlyForm } from './login-flow.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const tryStart = README.indexOf('### Try a login');
const section = README.slice(tryStart, README.indexOf('\n## ', tryStart));
const EXAMPLE = parse(readFileSync(join(ROOT, 'config/gateway.example.yaml'), 'utf8')) as Record<string, unknown>;
const README_BASE = 'http://127.0.0.1:8080';

describe("README's Try a login on config/gateway.example.yaml, with no homeserver", () => {
  let cw: CausewayProcess;
  beforeAll(async () => {
    cw = await startCauseway({
      baseConfig: (port) => ({ ...EXAMPLE, http: { ...(EXAMPLE.http as object), public_base: `http://127.0.0.1:${port}/`, listen: `127.0.0.1:${port}` } }),
    });
  });
  afterAll(() => cw?.dispose());

  const fromReadme = (s: string) => s.replaceAll(README_BASE, cw.url);

  it('registers the client, signs in, consents and exchanges the code for tokens', async () => {
    const registration = /oauth2\/registration -H 'content-type: application\/json' -d '(\{[\s\S]*?\})'/.exec(section)?.[1];
    expect(registration).toBeDefined();
    const reg = await fetch(`${cw.url}/oauth2/registration`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: registration });
    expect(reg.status).toBe(201);
    const client = (await reg.json()) as { client_id: string; redirect_uris: string[] };

    const authorize = /`(http:\/\/127\.0\.0\.1:8080\/authorize\?[^`]+)`/.exec(section)?.[1];
    expect(authorize).toBeDefined();
    const browser = new Browser();
    const toCallback = (u: string) => u.startsWith(client.redirect_uris[0]!);
    let res = await browser.go(fromReadme(authorize!).replace('<client_id>', client.client_id), {}, toCallback);
    res = await devSignIn(browser, res, 'trier', '', toCallback);
    expect(textOf(res.body)).toContain('Try');
    res = await decide(browser, res, 'allow', toCallback);
    const landed = new URL(res.stoppedAt!);
    expect(landed.searchParams.get('state')).toBe('xyz');
    const code = landed.searchParams.get('code')!;

    // The README's curl: -d name=value pairs, i.e. a form body.
    const curl = /curl -s (http:\/\/127\.0\.0\.1:8080\/oauth2\/token)([\s\S]*?)```/.exec(section);
    expect(curl).not.toBeNull();
    const form = new URLSearchParams();
    for (const [, k, v] of curl![2]!.matchAll(/-d ([a-z_]+)=(\S+)/g)) form.set(k!, v!.replace('<client_id>', client.client_id).replace('<code>', code));
    const token = await fetch(fromReadme(curl![1]!), { method: 'POST', body: form });
    expect(token.status).toBe(200);
    const tokens = (await token.json()) as Record<string, unknown>;
    expect(tokens).toMatchObject({ token_type: 'Bearer', scope: expect.stringContaining('urn:matrix:client:device:TRYDEVICE01') });
    expect(String(tokens.access_token)).toMatch(/^mat_/);
    expect(String(tokens.refresh_token)).toMatch(/^mar_/);

    // The account page the README points at shows the new session.
    const account = await browser.go(fromReadme(`${README_BASE}/account/`));
    expect(account.status).toBe(200);
    expect(textOf(account.body)).toContain('@trier:localhost');
    expect(onlyForm(account)).toBeDefined();
  });
});
