import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { upstreamUrls } from '../../../src/upstream/upstream-urls.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const sources = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? sources(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));

describe('upstream URLs', () => {
  it('builds every URL a provider is given under public_base, with or without its final slash', () => {
    for (const base of ['https://auth.example.com/', 'https://auth.example.com']) {
      const u = upstreamUrls(base, 'campus');
      expect(u.callback).toBe('https://auth.example.com/upstream/campus/callback');
      expect(u.callbackResume('k_1')).toBe('https://auth.example.com/upstream/campus/callback/resume/k_1');
      expect(u.samlMetadata).toBe('https://auth.example.com/upstream/campus/saml/metadata');
      expect(u.samlSlo).toBe('https://auth.example.com/upstream/campus/saml/slo');
      expect(u.samlDiscovery).toBe('https://auth.example.com/upstream/campus/saml/discovery');
      expect(u.casServiceEndpoint).toBe('https://auth.example.com/upstream/campus/cas/service');
      expect(u.casSlo).toBe('https://auth.example.com/upstream/campus/cas/slo');
      expect(u.backchannelLogout).toBe('https://auth.example.com/upstream/campus/backchannel-logout');
      expect(u.devLogin).toBe('https://auth.example.com/upstream/campus/dev-login');
    }
    expect(upstreamUrls('https://auth.example.com/sso/', 'campus').callback).toBe('https://auth.example.com/sso/upstream/campus/callback');
  });

  it('puts the state into the CAS service URL, encoded', () => {
    expect(upstreamUrls('https://auth.example.com/', 'campus').casService('a+b/c')).toBe('https://auth.example.com/upstream/campus/cas/service?state=a%2Bb%2Fc');
  });

  it('is the only place that builds a URL under /upstream/{id}/ (controllers only declare their route paths)', () => {
    const builders = sources(SRC)
      .filter((f) => !f.endsWith('upstream-urls.ts'))
      .filter((f) => /`[^`]*\bupstream\/\$\{/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(SRC, f));
    expect(builders).toEqual([]);
  });
});
