import { fail, pass, type Check } from '../doctor.js';

/** Clock readings gathered by the other checks (the Date header of each peer's answer). */
export type ClockReadings = { peer: string; skewMs: number | undefined }[];

/**
 * Tokens and SAML assertions carry times checked against the clock (with clock_skew of 30-60 s):
 * more than this apart, sign-ins start failing for no visible reason.
 */
export const MAX_SKEW_S = 30;

export function clockCheck(readings: ClockReadings): Check {
  return async () => {
    const known = readings.filter((r): r is { peer: string; skewMs: number } => r.skewMs !== undefined);
    if (!known.length) return [pass('clock', 'no peer told its time (no Date header)')];
    const off = known.filter((r) => Math.abs(r.skewMs) > MAX_SKEW_S * 1000);
    const describe = (r: { peer: string; skewMs: number }) => `${r.peer} ${r.skewMs > 0 ? 'ahead' : 'behind'} by ${Math.round(Math.abs(r.skewMs) / 1000)} s`;
    if (off.length) {
      return [fail('clock', off.map(describe).join(', '), `keep the clocks within ${MAX_SKEW_S} s (NTP on this host and on the peer): tokens and SAML assertions are refused outside their validity`)];
    }
    const worst = Math.max(...known.map((r) => Math.abs(r.skewMs)));
    return [pass('clock', `within ${Math.max(1, Math.round(worst / 1000))} s of ${known.map((r) => r.peer).join(', ')}`)];
  };
}
