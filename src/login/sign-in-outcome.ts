import { topState, type LoginContext, type LoginTarget } from './login.machine.js';

/** How a sign-in at an upstream IdP ended, for the audit trail and `causeway_logins_total`. */
export interface SignInOutcome {
  provider: string;
  outcome: 'success' | 'failure' | 'cancelled' | 'expired';
  /** Why it did not succeed: an UpstreamError kind (`requirement_failed`, `signature_invalid`…), a page's reason, `cancelled`… */
  reason?: string;
  loginId: string;
  userId?: string;
  /** The upstream subject, once the IdP's answer was verified. */
  subject?: string;
  /** The OAuth client the sign-in was for (`compat` for a legacy client's SSO login). */
  clientId?: string;
}

/** The parts of a login snapshot this looks at. */
export interface LoginView {
  status: string;
  value: unknown;
  context: LoginContext;
}

/**
 * The sign-in outcome a step produced, if it produced one: the step that started the browser
 * session (success), or the end of a login whose upstream sign-in had not succeeded yet (failure,
 * cancelled, expired). A login that reused the browser's session, or that fails after the sign-in
 * (consent, completion), is not a sign-in attempt. `before` is undefined for a login just created.
 */
export function signInOutcome(before: LoginView | undefined, after: LoginView): SignInOutcome | undefined {
  const ctx = after.context;
  if (!ctx.providerId || before?.context.newBrowserSession || (before && before.status !== 'active')) return undefined;
  if (ctx.browserSession && !ctx.newBrowserSession) return undefined;
  const base = {
    provider: ctx.providerId,
    loginId: ctx.loginId,
    ...(ctx.user ? { userId: ctx.user.id } : {}),
    ...(ctx.upstreamSubject ? { subject: ctx.upstreamSubject } : {}),
    ...clientOf(ctx.target),
  };
  if (ctx.newBrowserSession) return { ...base, outcome: 'success' };
  const state = topState(after.value);
  if (state === 'expired') return { ...base, outcome: 'expired', reason: 'expired' };
  if (state !== 'failed') return undefined;
  const reason = ctx.failure?.reason ?? 'unknown';
  return { ...base, outcome: reason === 'cancelled' ? 'cancelled' : 'failure', reason };
}

function clientOf(t: LoginTarget): { clientId?: string } {
  switch (t.kind) {
    case 'authorization':
      return { clientId: t.request.clientId };
    case 'device':
      return { clientId: t.device.clientId };
    case 'compat_sso':
      return { clientId: 'compat' };
    case 'account':
    case 'link':
      return {};
  }
}
