import { describe, expect, it } from '@jest/globals';
import { checkLocalpart, localpartCandidate } from '../../../src/matrix/localpart-policy.js';

describe('localpartCandidate (pre-filling the registration form)', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice', 'alice'],
    ['  Alice Liddell ', 'alice.liddell'],
    ['Élodie Müller', 'elodie.muller'],
    ['ﬁonn', 'fionn'],
    ['日本', ''],
    ['__svc', 'svc'],
    ['a+b=c/d-e_f', 'a+b=c/d-e_f'],
    ['bob@example.com', 'bobexample.com'],
    ['', ''],
  ])('%j → %j', (raw, expected) => {
    expect(localpartCandidate(raw)).toBe(expected);
  });

  it('only produces the Matrix grammar (the result may still be empty or reserved)', () => {
    for (const raw of ['ÅSA', 'x'.repeat(300), 'ß', '😀 smile', 'Ω mega']) {
      const c = localpartCandidate(raw);
      expect(c).toMatch(/^[a-z0-9._=\-/+]*$/);
      expect(c.startsWith('_')).toBe(false);
    }
    expect(checkLocalpart(localpartCandidate('ADMIN'), { serverName: 'example.com' })).toMatchObject({ ok: false, problem: 'reserved' });
  });
});
