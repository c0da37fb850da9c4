import { describe, expect, it } from '@jest/globals';
import { extract, scalarText, valueAt } from '../../../../src/upstream/oauth2/json-extract.js';

describe('JSON extraction for kind: oauth2', () => {
  const emails = [
    { email: 'old@example.org', primary: false, verified: true, visibility: null },
    { email: 'main@example.org', primary: true, verified: true, visibility: 'private' },
    { email: 'new@example.org', primary: false, verified: false, visibility: null },
  ];

  it('reads dotted paths through objects and arrays, own properties only', () => {
    const doc = { data: { user: { id: 42, tags: ['a', 'b'] } } };
    expect(valueAt(doc, 'data.user.id')).toBe(42);
    expect(valueAt(doc, 'data.user.tags.1')).toBe('b');
    expect(valueAt(doc, 'data.missing.id')).toBeUndefined();
    expect(valueAt({}, 'constructor')).toBeUndefined();
    expect(valueAt(JSON.parse('{"__proto__": {"id": 1}}'), '__proto__.id')).toBe(1);
    expect(valueAt({ a: 1 }, '__proto__.toString')).toBeUndefined();
  });

  it('turns numbers and booleans into text, nothing else', () => {
    expect(scalarText(583231)).toBe('583231');
    expect(scalarText(true)).toBe('true');
    expect(scalarText({ id: 1 })).toBeUndefined();
    expect(scalarText(Number.NaN)).toBeUndefined();
    expect(scalarText('x'.repeat(5000))).toBeUndefined();
  });

  it('selects the verified primary email only', () => {
    expect(extract(emails, { value: 'email', where: { primary: true, verified: true } })).toEqual(['main@example.org']);
    expect(extract(emails, { value: 'email', where: { verified: 'true' } })).toEqual(['old@example.org', 'main@example.org']);
    expect(extract(emails, { value: 'email', where: { primary: true, verified: false } })).toEqual([]);
  });

  it('reads one object as one item and flattens array values', () => {
    expect(extract({ login: 'octocat' }, { value: 'login' })).toEqual(['octocat']);
    expect(extract([{ roles: ['a', 'b'] }, { roles: 'c' }], { value: 'roles' })).toEqual(['a', 'b', 'c']);
    expect(extract('not json objects', { value: 'x' })).toEqual([]);
  });
});
