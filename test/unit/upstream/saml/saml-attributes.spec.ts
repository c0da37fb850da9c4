import { describe, expect, it } from '@jest/globals';
import { attributeMap } from '../../../../src/upstream/saml/saml-attributes.js';

describe('SAML attributes as templates see them', () => {
  it('keeps URI names and adds friendly, well-known and configured aliases without overwriting real names', () => {
    const m = attributeMap(
      [
        { name: 'urn:oid:0.9.2342.19200300.100.1.3', values: ['a@example.org'] },
        { name: 'urn:oid:2.16.840.1.113730.3.1.241', friendlyName: 'fullName', values: ['Alice L'] },
        { name: 'uid', values: ['alice'] },
        { name: 'urn:oid:0.9.2342.19200300.100.1.1', values: ['not-alice'] },
        { name: 'http://schemas.example.com/claims/employeeid', values: ['E42'] },
        { name: 'groups', values: ['a', 'b'] },
        { name: 'empty', values: [] },
      ],
      { value: 'N1', format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' },
      { employee: 'http://schemas.example.com/claims/employeeid' },
    );
    expect(m.mail).toBe('a@example.org');
    expect(m['urn:oid:0.9.2342.19200300.100.1.3']).toBe('a@example.org');
    expect(m.fullName).toBe('Alice L');
    expect(m.displayName).toBe('Alice L');
    expect(m.uid).toBe('alice');
    expect(m.employee).toBe('E42');
    expect(m.groups).toEqual(['a', 'b']);
    expect('empty' in m).toBe(false);
    expect(m.nameid).toBe('N1');
    expect(m.nameid_format).toBe('urn:oasis:names:tc:SAML:2.0:nameid-format:persistent');
  });

  it('never lets an attribute take the NameID keys', () => {
    const m = attributeMap([{ name: 'nameid', values: ['spoofed'] }], { value: 'real' });
    expect(m.nameid).toBe('real');
  });
});
