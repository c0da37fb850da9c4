import { describe, expect, it } from '@jest/globals';
import { cookieOptions } from '../../../src/web/cookies.js';
import type { GatewayConfig } from '../../../src/config/config.schema.js';

const config = (publicBase: string) => ({ http: { public_base: publicBase }, login: { ttl: 1800, browser_session_ttl: 3600 } }) as GatewayConfig;

describe('cookie options', () => {
  it('are signed, HttpOnly and SameSite=Lax; Secure exactly when the public URL is https', () => {
    expect(cookieOptions(config('https://auth.example.com/'))).toEqual({ httpOnly: true, sameSite: 'lax', secure: true, path: '/', signed: true });
    expect(cookieOptions(config('http://127.0.0.1:8080/')).secure).toBe(false);
  });

  it('are scoped to the public path (Causeway behind a path prefix) and carry a lifetime when asked', () => {
    expect(cookieOptions(config('https://example.com/auth/'), 60)).toMatchObject({ path: '/auth/', maxAge: 60 });
  });
});
