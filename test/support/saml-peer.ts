import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, forms, type BrowserResponse } from './browser.js';
import type { Peer } from './peers.js';

/**
 * Helpers for the real SimpleSAMLphp IdP of test/peers/saml-idp: an SP key pair made in the test's
 * temp dir, SP registration through the peer's `sp-metadata/*.xml` (read on every request), and
 * the IdP's login form driven as a person would (alice/alicepass, bob/bobpass).
 */
export function makeSpKeys(dir: string, name = 'sp'): { keyFile: string; certFile: string; cert: string } {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-sha256', '-nodes', '-days', '2', '-subj', `/CN=Causeway SP ${name}`, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { keyFile, certFile, cert: readFileSync(certFile, 'utf8') };
}

/** Registers an SP with the peer from its metadata document; returns the function that removes it. */
export function registerSp(peer: Peer, metadataXml: string): () => void {
  const dir = join(peer.stateDir, 'sp-metadata');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `causeway-${createHash('sha256').update(metadataXml).digest('hex').slice(0, 12)}-${randomBytes(3).toString('hex')}.xml`);
  writeFileSync(file, metadataXml);
  return () => rmSync(file, { force: true });
}

export const IDP_METADATA_PATH = '/saml2/idp/metadata.php';

/**
 * At the IdP: fills in its login form (if it shows one) and returns the auto-submitting form it
 * answers with (SAMLResponse/SAMLRequest + RelayState for the SP), without submitting it.
 */
export async function idpLogin(browser: Browser, res: BrowserResponse, user?: { username: string; password: string }): Promise<{ action: string; fields: Record<string, string> }> {
  let page = res;
  for (let i = 0; i < 3; i++) {
    const f = forms(page.body, page.url);
    const samlForm = f.find((x) => 'SAMLResponse' in x.fields || 'SAMLRequest' in x.fields);
    if (samlForm) return { action: samlForm.action, fields: samlForm.fields };
    const login = f.find((x) => 'password' in x.fields || 'username' in x.fields);
    if (!login || !user) throw new Error(`no SAML form or login form at ${page.url} (status ${page.status}): ${page.body.slice(0, 500)}`);
    page = await browser.submit(login, { username: user.username, password: user.password });
    if (page.status >= 300 && page.status < 400 && page.location) page = await browser.go(page.location);
  }
  throw new Error(`the IdP did not answer with a SAML form (last page ${page.url})`);
}
