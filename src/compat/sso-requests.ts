import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '../storage/kv-store.js';
import { ulid } from '../storage/ulid.js';

/** A legacy client's whole SSO login must finish within this (MAS: 30 minutes). */
export const COMPAT_SSO_LOGIN_MS = 30 * 60_000;

/** What `/login/sso/redirect` validated, waiting for the browser to arrive on Causeway's own host. */
export interface SsoRequest {
  redirectUrl: string;
  action?: 'login' | 'register';
  /** The provider the client chose (`/login/sso/redirect/{idp}`), if it is one of ours. */
  providerId?: string;
  createdAt: number;
}

const requestKey = (id: string) => `compat-sso:${id}`;
const ownerKey = (id: string) => `compat-sso-login:${id}`;

/**
 * Pending compat SSO logins (KeyValueStore, so any replica serves any step). `/login/sso/redirect`
 * is reached through the homeserver's host (the reverse proxy routes it to Causeway), where
 * Causeway's cookies are neither sent nor settable; so it only records the request and sends the
 * browser to `/complete-compat-sso/{id}` on Causeway's host, where the login machine starts, bound
 * to that browser. The first browser to arrive claims the request.
 */
@Injectable()
export class SsoRequests {
  constructor(private readonly kv: KeyValueStore) {}

  async create(r: Omit<SsoRequest, 'createdAt'>, now = Date.now()): Promise<string> {
    const id = ulid(now);
    await this.kv.set(requestKey(id), JSON.stringify({ ...r, createdAt: now } satisfies SsoRequest), COMPAT_SSO_LOGIN_MS / 1000);
    return id;
  }

  async get(id: string): Promise<SsoRequest | undefined> {
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return undefined;
    const raw = await this.kv.get(requestKey(id));
    return raw ? (JSON.parse(raw) as SsoRequest) : undefined;
  }

  /** The login that took this request, if one did. */
  async owner(id: string): Promise<string | undefined> {
    return this.kv.get(ownerKey(id));
  }

  /** Records `loginId` as the request's login unless another got there first; returns the owner. */
  async claim(id: string, loginId: string): Promise<string> {
    if (await this.kv.setIfAbsent(ownerKey(id), loginId, COMPAT_SSO_LOGIN_MS / 1000)) return loginId;
    return (await this.kv.get(ownerKey(id))) ?? loginId;
  }
}
