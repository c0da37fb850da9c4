import { IsNull, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { Database, type Tx } from '../database.service.js';
import { UserEmailEntity, UserEntity } from '../entities/index.js';
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

/** A user row as the rest of Causeway sees it (identity's `User`). */
export interface UserRecord {
  id: string;
  localpart: string;
  createdAt: number;
  lockedAt: number | null;
  deactivatedAt: number | null;
  displayName: string | null;
  email: string | null;
  canRequestAdmin: boolean;
  idpAdmin: boolean;
}

export interface UserEmailRecord {
  id: string;
  userId: string;
  email: string;
  createdAt: number;
}

/** The account flags that lifecycle changes set (one column each). */
export type UserFlags = Partial<Pick<UserRecord, 'lockedAt' | 'deactivatedAt' | 'canRequestAdmin' | 'idpAdmin' | 'displayName' | 'email'>>;

const toRecord = (e: UserEntity): UserRecord => ({
  id: e.id,
  localpart: e.localpart,
  createdAt: Number(e.created_at),
  lockedAt: e.locked_at,
  deactivatedAt: e.deactivated_at,
  displayName: e.display_name,
  email: e.email,
  canRequestAdmin: e.can_request_admin,
  idpAdmin: e.idp_admin,
});

const toEmail = (e: UserEmailEntity): UserEmailRecord => ({ id: e.id, userId: e.user_id, email: e.email, createdAt: Number(e.created_at) });

const COLUMN: Record<keyof UserFlags, keyof UserEntity> = {
  lockedAt: 'locked_at',
  deactivatedAt: 'deactivated_at',
  canRequestAdmin: 'can_request_admin',
  idpAdmin: 'idp_admin',
  displayName: 'display_name',
  email: 'email',
};

/** `%`, `_` and the escape itself are literal in a prefix search. */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The users aggregate: accounts and their email addresses (upstream links have their own
 * repository). Lookups, creation, profile and flag changes, the admin API's filtered,
 * cursor-paginated listings, and bulk creation (imports, tests). Methods taking a `Tx` run in the
 * caller's transaction; the others read committed state.
 */
export class UserRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string, tx: Tx = this.db.manager): Promise<UserRecord | undefined> {
    const e = await tx.findOneBy(UserEntity, { id });
    return e ? toRecord(e) : undefined;
  }

  async findByLocalpart(localpart: string, tx: Tx = this.db.manager): Promise<UserRecord | undefined> {
    const e = await tx.findOneBy(UserEntity, { localpart });
    return e ? toRecord(e) : undefined;
  }

  /** The id of the account with this localpart. */
  async idOf(localpart: string, tx: Tx = this.db.manager): Promise<string | undefined> {
    return (await tx.findOne(UserEntity, { where: { localpart }, select: { id: true } }))?.id;
  }

  /** A taken localpart fails on the unique index (identity's isUniqueViolation tells). */
  async insert(tx: Tx, u: NewUserRow & { email?: string | null }, now = Date.now()): Promise<UserRecord> {
    const row: UserEntity = {
      id: ulid(now),
      localpart: u.localpart,
      created_at: now,
      locked_at: null,
      deactivated_at: null,
      can_request_admin: u.canRequestAdmin ?? false,
      idp_admin: false,
      display_name: u.displayName ?? null,
      email: u.email ?? null,
    };
    await tx.insert(UserEntity, row);
    return toRecord(row);
  }

  /**
   * Sets the given columns; `onlyIf: 'unlocked' | 'active'` changes nothing unless the account is not
   * locked / not deactivated yet. Returns whether a row changed.
   */
  async update(tx: Tx, id: string, set: UserFlags, onlyIf?: 'unlocked' | 'active'): Promise<boolean> {
    const values: Partial<Record<keyof UserEntity, unknown>> = {};
    for (const [k, v] of Object.entries(set)) if (v !== undefined) values[COLUMN[k as keyof UserFlags]] = v;
    if (!Object.keys(values).length) return false;
    const where = { id, ...(onlyIf === 'unlocked' ? { locked_at: IsNull() } : onlyIf === 'active' ? { deactivated_at: IsNull() } : {}) };
    return !!(await tx.update(UserEntity, where, values as never)).affected;
  }

  /** The two admin rights (the flag and the IdP rule's) of a user, read alone. */
  async adminRights(id: string): Promise<{ canRequestAdmin: boolean; idpAdmin: boolean } | undefined> {
    const row = await this.db.manager.findOne(UserEntity, { where: { id }, select: { id: true, can_request_admin: true, idp_admin: true } });
    return row ? { canRequestAdmin: row.can_request_admin, idpAdmin: row.idp_admin } : undefined;
  }

  /** Adds an address (lower-cased) unless the user has it already. */
  async addEmail(tx: Tx, userId: string, email: string, now = Date.now()): Promise<void> {
    const address = email.toLowerCase();
    if (await tx.findOneBy(UserEmailEntity, { user_id: userId, email: address })) return;
    await tx.insert(UserEmailEntity, { id: ulid(now), user_id: userId, email: address, created_at: now });
  }

  /** The user's addresses, oldest first. */
  async emails(userId: string, tx: Tx = this.db.manager): Promise<UserEmailRecord[]> {
    return (await tx.find(UserEmailEntity, { where: { user_id: userId }, order: { id: 'ASC' } })).map(toEmail);
  }

  async list(f: UserFilter, page: PageRequest): Promise<Page<UserRecord>> {
    const q = this.db.manager.createQueryBuilder(UserEntity, 'u');
    applyFilter(q, f);
    if (page.after) q.andWhere('u.id > :after', { after: page.after });
    const rows = await q
      .orderBy('u.id', 'ASC')
      .take(page.limit + 1)
      .getMany();
    return toPage(rows, page.limit, (r) => r.id, toRecord);
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
