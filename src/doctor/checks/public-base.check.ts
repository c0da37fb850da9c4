import type { GatewayConfig } from '../../config/config.schema.js';
import { fail, pass, type Check } from '../doctor.js';
import { probe, reasonOf } from '../probe.js';

/**
 * http.public_base reaches this deployment: its discovery document names public_base as issuer and
 * its JWKS publishes the configured signing keys (another server, or one not restarted since the
 * keys changed, would not).
 */
export function publicBaseCheck(config: GatewayConfig): Check {
  return async () => {
    const base = config.http.public_base;
    const url = `${base}.well-known/openid-configuration`;
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const r = await probe(url);
      if (r.status !== 200) return [fail('public_base', `${url} answered ${r.status}`, 'the reverse proxy or ingress must send public_base to Causeway')];
      doc = JSON.parse(r.body) as typeof doc;
    } catch (e) {
      return [fail('public_base', `${base} unreachable (${reasonOf(e)})`, 'start Causeway and route http.public_base to it (reverse proxy, ingress, DNS): clients and Synapse use this URL')];
    }
    if (doc.issuer !== base) {
      return [fail('public_base', `${base} is served by another issuer (${String(doc.issuer)})`, 'http.public_base must be the URL this deployment is reached at; another server answers there')];
    }
    const kids = config.secrets.keys.map((k) => k.kid);
    if (!kids.length || typeof doc.jwks_uri !== 'string') return [pass('public_base', `${base} answers as this issuer`)];
    try {
      const jwks = JSON.parse((await probe(doc.jwks_uri)).body) as { keys?: { kid?: string }[] };
      const published = new Set((jwks.keys ?? []).map((k) => k.kid));
      const missing = kids.filter((k) => !published.has(k));
      if (missing.length) {
        return [
          fail('public_base', `${base} does not publish the signing key(s) ${missing.join(', ')}`, 'the server at public_base runs with other keys: another deployment, or not restarted since secrets.keys changed'),
        ];
      }
    } catch (e) {
      return [fail('public_base', `its JWKS (${doc.jwks_uri}) is unreadable (${reasonOf(e)})`, 'the reverse proxy must send /oauth2/keys.json to Causeway too')];
    }
    return [pass('public_base', `${base} answers as this issuer, with the configured signing keys`)];
  };
}
