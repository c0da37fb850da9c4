import { msg, type Msg } from './i18n/message.js';

/**
 * What a scope lets a client do, in words for the consent page (pure). Both the stable and the
 * unstable MSC2967 names; the device scope is shown separately (as the device id).
 */
const API = /^urn:matrix:(client|org\.matrix\.msc2967\.client):api:\*$/;
const GUEST = /^urn:matrix:(client|org\.matrix\.msc2967\.client):api:guest$/;
const DEVICE = /^urn:matrix:(client|org\.matrix\.msc2967\.client):device:(.+)$/;

export interface ScopeDescription {
  scope: string;
  text: Msg;
}

export function describeScopes(scope: readonly string[]): ScopeDescription[] {
  const out: ScopeDescription[] = [];
  for (const s of scope) {
    if (DEVICE.test(s)) continue;
    if (s === 'openid') out.push({ scope: s, text: msg('scope.openid') });
    else if (API.test(s)) out.push({ scope: s, text: msg('scope.api') });
    else if (GUEST.test(s)) out.push({ scope: s, text: msg('scope.guest') });
    else if (s === 'urn:synapse:admin:*') out.push({ scope: s, text: msg('scope.admin') });
    else if (s === 'urn:causeway:admin') out.push({ scope: s, text: msg('scope.causeway_admin') });
    else if (s === 'email') out.push({ scope: s, text: msg('scope.email') });
    else if (s === 'profile') out.push({ scope: s, text: msg('scope.profile') });
    else out.push({ scope: s, text: msg('scope.other', { scope: s }) });
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
