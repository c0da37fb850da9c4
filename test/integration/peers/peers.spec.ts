import { describe, expect, it } from '@jest/globals';
import { ensurePeer } from '../../support/peers.js';

// The harness itself: each real IdP starts on demand and answers (the suite's other tests rely on it).
describe('test peers', () => {
  it('starts the OIDC IdP and serves discovery', async () => {
    const peer = await ensurePeer('oidc');
    const res = await fetch(`${peer.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(peer.url);
  }, 300_000);

  it('starts the CAS server', async () => {
    const peer = await ensurePeer('cas');
    expect((await fetch(`${peer.url}/login`)).status).toBe(200);
  }, 600_000);

  it('starts the SAML IdP and serves its metadata', async () => {
    const peer = await ensurePeer('saml');
    const res = await fetch(`${peer.url}/saml2/idp/metadata.php`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('EntityDescriptor');
  }, 600_000);
});
