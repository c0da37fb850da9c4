import { type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { Database } from '../database.service.js';
import { UserEntity } from '../entities/index.js';
import { ulid } from '../ulid.js';
import { toPage, type Page, type PageRequest } from './page.js';

export type UserStatus = 'active' | 'locked' | 'deactivated';

export interface UserFilter {
  /** Localparts starting with this. */
  localpartPrefix?: string;
  /** One of the user's addresses (exact, case-insensitive). */
  email?: string;
  /** Linked to this upstream provider. */
  provider?: string;
  /** Linked with this upstream subject (at `provider` when both are given). */
  subject?: string;
  /** `locked`: locked and not deactivated; `deactivated` wins over locked. */
  status?: UserStatus;
  /** Has the admin right (flag, IdP rule or `adminLocalparts`). */
  admin?: boolean;
  /** `policy.admin_localparts` (for `admin`). */
  adminLocalparts?: readonly string[];
}

export interface NewUserRow {
  localpart: string;
  displayName?: string | null;
  createdAt?: number;
  canRequestAdmin?: boolean;
}

/** `%`, `_` and the escape itself are literal in a prefix search. */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** User queries of the admin API: filtered, cursor-paginated listings, and bulk creation (imports, tests). */
export class UserRepository {
  constructor(private readonly db: Database) {}

  async list(f: UserFilter, page: PageRequest): Promise<Page<UserEntity>> {
    const q = this.db.manager.createQueryBuilder(UserEntity, 'u');
    applyFilter(q, f);
    if (page.after) q.andWhere('u.id > :after', { after: page.after });
    const rows = await q.orderBy('u.id', 'ASC').take(page.limit + 1).getMany();
    return toPage(rows, page.limit, (r) => r.id, (r) => r);
  }

  /** Inserts many users in a few statements (ids in creation order); returns their ids. */
  async insertMany(users: readonly NewUserRow[], em: EntityManager = this.db.manager, chunk = 500): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < users.length; i += chunk) {
      const rows = users.slice(i, i + chunk).map((u) => {
        const at = u.createdAt ?? Date.now();
        const id = ulid(at);
        ids.push(id);
        return { id, localpart: u.localpart, created_at: at, locked_at: null, deactivated_at: null, can_request_admin: u.canRequestAdmin ?? false, idp_admin: false, display_name: u.displayName ?? null, email: null };
      });
      await em.createQueryBuilder().insert().into(UserEntity).values(rows).updateEntity(false).execute();
    }
    return ids;
  }
}

function applyFilter(q: SelectQueryBuilder<UserEntity>, f: UserFilter): void {
  if (f.localpartPrefix) q.andWhere(`u.localpart LIKE :prefix ESCAPE '\\'`, { prefix: likePrefix(f.localpartPrefix) });
  if (f.email) q.andWhere('EXISTS (SELECT 1 FROM user_emails e WHERE e.user_id = u.id AND e.email = :email)', { email: f.email.toLowerCase() });
  if (f.provider || f.subject) {
    const conds = ['l.user_id = u.id', ...(f.provider ? ['l.provider_id = :provider'] : []), ...(f.subject ? ['l.subject = :subject'] : [])];
    q.andWhere(`EXISTS (SELECT 1 FROM upstream_links l WHERE ${conds.join(' AND ')})`, { provider: f.provider, subject: f.subject });
  }
  if (f.status === 'active') q.andWhere('u.locked_at IS NULL AND u.deactivated_at IS NULL');
  if (f.status === 'locked') q.andWhere('u.locked_at IS NOT NULL AND u.deactivated_at IS NULL');
  if (f.status === 'deactivated') q.andWhere('u.deactivated_at IS NOT NULL');
  if (f.admin !== undefined) {
    // TRUE is a keyword on both dialects (1 on SQLite, where the columns hold 0/1).
    const listed = [...(f.adminLocalparts ?? [])];
    const isAdmin = `(u.can_request_admin = TRUE OR u.idp_admin = TRUE${listed.length ? ' OR u.localpart IN (:...listed)' : ''})`;
    q.andWhere(f.admin ? isAdmin : `NOT ${isAdmin}`, { listed });
  }
}
