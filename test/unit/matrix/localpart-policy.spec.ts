import { describe, expect, it } from '@jest/globals';
import { checkLocalpart, MAX_USER_ID_LENGTH } from '../../../src/matrix/localpart-policy.js';

const policy = { serverName: 'example.com', reserved: ['Helpdesk'] };
const problem = (lp: string) => {
  const r = checkLocalpart(lp, policy);
  return r.ok ? 'ok' : r.problem;
};

describe('localpart policy (Matrix user id grammar + Synapse rules)', () => {
  it.each([
    ['alice', 'ok'],
    ['alice.liddell', 'ok'],
    ['a-b_c=d/e+f', 'ok'],
    ['x1', 'ok'],
    ['', 'empty'],
    ['Alice', 'invalid_characters'],
    ['ALICE', 'invalid_characters'],
    ['élodie', 'invalid_characters'],
    ['日本', 'invalid_characters'],
    ['alice liddell', 'invalid_characters'],
    ['alice@example', 'invalid_characters'],
    ['al:ice', 'invalid_characters'],
    ['_bridge', 'leading_underscore'],
    ['12345', 'numeric'],
    ['admin', 'reserved'],
    ['root', 'reserved'],
    ['helpdesk', 'reserved'],
  ])('%j → %s', (lp, expected) => {
    expect(problem(lp)).toBe(expected);
  });

  it('limits the whole user id to 255 characters', () => {
    const fits = 'a'.repeat(MAX_USER_ID_LENGTH - '@:example.com'.length);
    expect(problem(fits)).toBe('ok');
    expect(problem(`${fits}a`)).toBe('too_long');
  });
});
