import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { Database } from '../database.service.js';
import { BrowserSessionEntity, CompatSessionEntity, OAuth2SessionEntity } from '../entities/index.js';
import type { Page, PageRequest } from './page.js';

/** `oauth2`: a client's session; `personal`: a personal access token's; `compat`: a legacy `/login` one; `browser`: signed in at Causeway in a browser. */
export type SessionKind = 'oauth2' | 'compat' | 'browser' | 'personal';
export const SESSION_KINDS: readonly SessionKind[] = ['oauth2', 'personal', 'compat', 'browser'];

/** The `grant_type` of personal sessions (oauth2/personal/personal-tokens.service.ts). */
const PERSONAL = 'personal';

export interface SessionRow {
  id: string;
  kind: SessionKind;
  userId: string | null;
  clientId: string | null;
  deviceId: string | null;
  scope: string | null;
  name: string | null;
  createdAt: number;
  lastActiveAt: number | null;
  /** Client address at the last activity recorded (token request, `/login`, `/refresh`, sign-in). */
  lastActiveIp: string | null;
  finishedAt: number | null;
  finishReason: string | null;
  userAgent: string | null;
  browserSessionId: string | null;
  providerId: string | null;
}

export interface SessionFilter {
  kinds?: readonly SessionKind[];
  state?: 'active' | 'finished';
  userId?: string;
  clientId?: string;
  deviceId?: string;
  /** Last seen from this address. */
  ip?: string;
  /** Browser sessions end by themselves after `login.browser_session_ttl` (ms). */
  browserTtlMs: number;
  now?: number;
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The columns OAuth and compat sessions share, as a row. */
function deviceSessionRow(kind: SessionKind, s: OAuth2SessionEntity | CompatSessionEntity, extra: Pick<SessionRow, 'clientId' | 'scope'>): SessionRow {
  return {
    id: s.id,
    kind,
    userId: s.user_id,
    deviceId: s.device_id,
    name: s.human_name,
    createdAt: Number(s.created_at),
    lastActiveAt: n(s.last_active_at),
    lastActiveIp: s.last_active_ip,
    finishedAt: n(s.finished_at),
    finishReason: s.finish_reason,
    userAgent: null,
    browserSessionId: s.browser_session_id,
    providerId: null,
    ...extra,
  };
}

/**
 * Sessions of every kind, for the admin API. Each kind lives in its own table; a page is the first
 * `limit` ids after the cursor over all of them (each table is asked for `limit + 1` rows in id
 * order, then the results are merged), so one order covers every kind.
 */
export class SessionRepository {
  constructor(private readonly db: Database) {}

  async list(f: SessionFilter, page: PageRequest): Promise<Page<SessionRow>> {
    const kinds = f.kinds?.length ? f.kinds : SESSION_KINDS;
    const now = f.now ?? Date.now();
    const take = page.limit + 1;
    const parts: SessionRow[][] = [];
    const oauthKinds = kinds.filter((k) => k === 'oauth2' || k === 'personal');
    if (oauthKinds.length) parts.push(await this.oauth(f, oauthKinds, page.after, take));
    if (kinds.includes('compat') && !f.clientId) parts.push(await this.compat(f, page.after, take));
    if (kinds.includes('browser') && !f.clientId && !f.deviceId) parts.push(await this.browser(f, page.after, take, now));
    const rows = parts.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const more = rows.length > page.limit;
    const data = rows.slice(0, page.limit);
    return { data, nextAfter: more ? data[data.length - 1]!.id : null };
  }

  async get(id: string, browserTtlMs: number, now = Date.now()): Promise<SessionRow | undefined> {
    const f: SessionFilter = { browserTtlMs, now };
    const byId = <T extends ObjectLiteral>(q: SelectQueryBuilder<T>) => q.andWhere('s.id = :id', { id });
    return (await this.oauth(f, ['oauth2', 'personal'], undefined, 1, byId))[0] ?? (await this.compat(f, undefined, 1, byId))[0] ?? (await this.browser(f, undefined, 1, now, byId))[0];
  }

  private common<T extends ObjectLiteral>(q: SelectQueryBuilder<T>, f: SessionFilter, after: string | undefined, take: number) {
    if (f.userId) q.andWhere('s.user_id = :userId', { userId: f.userId });
    if (f.ip) q.andWhere('s.last_active_ip = :ip', { ip: f.ip });
    if (after) q.andWhere('s.id > :after', { after });
    return q.orderBy('s.id', 'ASC').take(take);
  }

  private async oauth(f: SessionFilter, kinds: SessionKind[], after: string | undefined, take: number, extra = <T extends ObjectLiteral>(q: SelectQueryBuilder<T>) => q): Promise<SessionRow[]> {
    const q = this.db.manager.createQueryBuilder(OAuth2SessionEntity, 's');
    if (kinds.length === 1) q.andWhere(kinds[0] === 'personal' ? 's.grant_type = :personal' : 's.grant_type <> :personal', { personal: PERSONAL });
    if (f.clientId) q.andWhere('s.client_id = :clientId', { clientId: f.clientId });
    if (f.deviceId) q.andWhere('s.device_id = :deviceId', { deviceId: f.deviceId });
    if (f.state) q.andWhere(f.state === 'active' ? 's.finished_at IS NULL' : 's.finished_at IS NOT NULL');
    const rows = await this.common(extra(q), f, after, take).getMany();
    return rows.map((s) => (s.grant_type === PERSONAL ? deviceSessionRow('personal', s, { clientId: null, scope: s.scope }) : deviceSessionRow('oauth2', s, { clientId: s.client_id, scope: s.scope })));
  }

  private async compat(f: SessionFilter, after: string | undefined, take: number, extra = <T extends ObjectLiteral>(q: SelectQueryBuilder<T>) => q): Promise<SessionRow[]> {
    const q = this.db.manager.createQueryBuilder(CompatSessionEntity, 's');
    if (f.deviceId) q.andWhere('s.device_id = :deviceId', { deviceId: f.deviceId });
    if (f.state) q.andWhere(f.state === 'active' ? 's.finished_at IS NULL' : 's.finished_at IS NOT NULL');
    const rows = await this.common(extra(q), f, after, take).getMany();
    return rows.map((s) => deviceSessionRow('compat', s, { clientId: null, scope: null }));
  }

  private async browser(f: SessionFilter, after: string | undefined, take: number, now: number, extra = <T extends ObjectLiteral>(q: SelectQueryBuilder<T>) => q): Promise<SessionRow[]> {
    const cutoff = now - f.browserTtlMs;
    const q = this.db.manager.createQueryBuilder(BrowserSessionEntity, 's');
    if (f.state === 'active') q.andWhere('s.finished_at IS NULL AND s.created_at > :cutoff', { cutoff });
    if (f.state === 'finished') q.andWhere('(s.finished_at IS NOT NULL OR s.created_at <= :cutoff)', { cutoff });
    const rows = await this.common(extra(q), f, after, take).getMany();
    return rows.map((s) => {
      const created = Number(s.created_at);
      const expired = s.finished_at === null && created <= cutoff;
      return {
        id: s.id,
        kind: 'browser',
        userId: s.user_id,
        clientId: null,
        deviceId: null,
        scope: null,
        name: null,
        createdAt: created,
        lastActiveAt: n(s.authenticated_at),
        lastActiveIp: s.last_active_ip,
        finishedAt: expired ? created + f.browserTtlMs : n(s.finished_at),
        finishReason: expired ? 'expired' : null,
        userAgent: s.user_agent,
        browserSessionId: null,
        providerId: s.provider_id,
      };
    });
  }
}
