/**
 * What a scope lets a client do, in words for the consent page (pure). Both the stable and the
 * unstable MSC2967 names; the device scope is shown separately (as the device id).
 */
const API = /^urn:matrix:(client|org\.matrix\.msc2967\.client):api:\*$/;
const GUEST = /^urn:matrix:(client|org\.matrix\.msc2967\.client):api:guest$/;
const DEVICE = /^urn:matrix:(client|org\.matrix\.msc2967\.client):device:(.+)$/;

export interface ScopeDescription {
  scope: string;
  text: string;
}

export function describeScopes(scope: readonly string[]): ScopeDescription[] {
  const out: ScopeDescription[] = [];
  for (const s of scope) {
    if (DEVICE.test(s)) continue;
    if (s === 'openid') out.push({ scope: s, text: 'See your Matrix user ID and that you are signed in' });
    else if (API.test(s)) out.push({ scope: s, text: 'Use your Matrix account: read and send messages, join rooms, and change your settings' });
    else if (GUEST.test(s)) out.push({ scope: s, text: 'Use your Matrix account as a guest' });
    else if (s === 'urn:synapse:admin:*') out.push({ scope: s, text: 'Administer the homeserver with full server-administrator rights' });
    else if (s === 'urn:causeway:admin') out.push({ scope: s, text: 'Administer the accounts and sessions of this sign-in service (Causeway admin API)' });
    else if (s === 'email') out.push({ scope: s, text: 'See your email address' });
    else if (s === 'profile') out.push({ scope: s, text: 'See your display name' });
    else out.push({ scope: s, text: `Other access: ${s}` });
  }
  return out;
}

/** The Matrix device id a scope list asks for, if any. */
export function deviceIdOf(scope: readonly string[]): string | undefined {
  for (const s of scope) {
    const m = DEVICE.exec(s);
    if (m) return m[2];
  }
  return undefined;
}
