import { describe, expect, it } from '@jest/globals';
import { clockCheck } from '../../../src/doctor/checks/clock.check.js';
import { fail, formatReport, pass, runChecks } from '../../../src/doctor/doctor.js';
import { expiryProblem } from '../../../src/doctor/probe.js';

const NOW = Date.UTC(2026, 5, 1);
const days = (n: number) => new Date(NOW + n * 86_400_000);

describe('doctor: certificate expiry, clocks, the report', () => {
  it('a certificate is a problem when expired or expiring within 30 days', () => {
    expect(expiryProblem(days(-1), NOW)).toBe('expired on 2026-05-31');
    expect(expiryProblem(days(0), NOW)).toBe('expired on 2026-06-01');
    expect(expiryProblem(days(1), NOW)).toBe('expires on 2026-06-02 (in 1 day)');
    expect(expiryProblem(days(29), NOW)).toBe('expires on 2026-06-30 (in 29 days)');
    expect(expiryProblem(days(31), NOW)).toBeUndefined();
  });

  it('clocks: ✖ beyond 30 s either way, naming the peers', async () => {
    expect(
      await clockCheck([
        { peer: 'the homeserver', skewMs: 400 },
        { peer: 'IdP corp', skewMs: -1200 },
      ])(),
    ).toEqual([pass('clock', 'within 1 s of the homeserver, IdP corp')]);
    const [r] = await clockCheck([
      { peer: 'the homeserver', skewMs: 2000 },
      { peer: 'IdP corp', skewMs: -95_000 },
      { peer: 'IdP x', skewMs: 31_000 },
    ])();
    expect(r).toMatchObject({ ok: false, name: 'clock', detail: 'IdP corp behind by 95 s, IdP x ahead by 31 s', hint: expect.stringMatching(/NTP/) });
    expect(await clockCheck([{ peer: 'IdP corp', skewMs: undefined }])()).toEqual([pass('clock', 'no peer told its time (no Date header)')]);
  });

  it('the report: a line per check, a hint under each ✖, a check that throws is a ✖ too', async () => {
    const results = await runChecks([
      async () => [pass('config', 'valid')],
      async () => [fail('redis', 'unreachable', 'check redis.url')],
      async () => {
        throw new Error('boom');
      },
    ]);
    expect(formatReport('gw.yaml', results)).toBe(
      'causeway doctor: gw.yaml\n✔ config: valid\n✖ redis: unreachable\n    hint: check redis.url\n✖ doctor: a check failed unexpectedly: boom\n    hint: report this as a bug in causeway doctor\n2 problems found.\n',
    );
  });
});
