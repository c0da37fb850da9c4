import { ulid } from '../../storage/ulid.js';
import type { SynapseUser, SynapseUserDetails } from '../synapse-db/synapse-rows.js';
import type { SynapseSource } from '../synapse-db/synapse-source.js';
import { emptyWrites, writeCount } from './causeway-state.js';
import type { CausewayTarget } from './causeway-target.js';
import { emptyCounts, type ImportCounts } from './import-counts.js';
import { countRead, countSkipped, localpartOf, mappingKey, planUser, skipReason, userDigest, type ExistingUserState, type PlanContext } from './import-plan.js';

/** Users per page: one Causeway transaction each; the other tables are read for the page's id range. */
export const DEFAULT_PAGE_SIZE = 2000;

export type ImportMode = 'run' | 'dry-run' | 'check';

export interface ProgressSink {
  start(totalUsers: number): void;
  page(counts: ImportCounts): void;
  finish(counts: ImportCounts): void;
}

export interface ImportRunOptions {
  mode: ImportMode;
  serverName: string;
  providerOf: ReadonlyMap<string, string>;
  /** Causeway's database; absent in a `--check` against a database that is not migrated yet (read as empty). */
  target?: CausewayTarget;
  pageSize?: number;
  progress?: ProgressSink;
  now?: number;
}

interface Page {
  users: SynapseUser[];
  details: Map<string, SynapseUserDetails>;
}

/**
 * One run: Synapse's users page by page (the next page is read while the current one is planned
 * and written), each changed user planned against Causeway's state and every page's changes written
 * in one transaction. A user whose digest matches what an earlier run applied is not touched: a
 * second run writes only what is new or changed, and a run interrupted anywhere resumes at the first
 * page it had not committed.
 */
export async function runImport(source: SynapseSource, opts: ImportRunOptions): Promise<ImportCounts> {
  const counts = emptyCounts();
  const now = opts.now ?? Date.now();
  const ctx: PlanContext = { now, serverName: opts.serverName, providerOf: opts.providerOf, counts, newId: ulid };
  const mapping = mappingKey(ctx);
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const target = opts.target;
  const write = opts.mode !== 'check' && !!target;

  opts.progress?.start(await source.userCount());
  if (write && opts.mode === 'dry-run') await target.beginDryRun();
  try {
    const readPage = async (after: string): Promise<Page | undefined> => {
      const users = await source.usersPage(after, pageSize);
      if (!users.length) return undefined;
      return { users, details: await source.details(users[0]!.name, users[users.length - 1]!.name) };
    };
    let next = readPage('');
    for (;;) {
      const page = await next;
      if (!page) break;
      // Read ahead: Synapse answers the next page while this one is planned and written.
      next = page.users.length === pageSize ? readPage(page.users[page.users.length - 1]!.name) : Promise.resolve(undefined);
      next.catch(() => undefined);
      await importPage(ctx, mapping, page, write ? target : opts.mode === 'check' ? target : undefined, write);
      opts.progress?.page(counts);
    }
    if (write && opts.mode === 'dry-run') await target.rollbackDryRun();
  } catch (e) {
    if (write && opts.mode === 'dry-run') await target.rollbackDryRun().catch(() => undefined);
    throw e;
  }
  opts.progress?.finish(counts);
  return counts;
}

async function importPage(ctx: PlanContext, mapping: string, page: Page, target: CausewayTarget | undefined, write: boolean): Promise<void> {
  const { counts } = ctx;
  const candidates: { su: SynapseUser; details: SynapseUserDetails | undefined; digest: string; localpart: string }[] = [];
  for (const su of page.users) {
    const details = page.details.get(su.name);
    countRead(counts, su, details);
    const skip = skipReason(su, ctx.serverName);
    if (skip) {
      countSkipped(counts, skip);
      continue;
    }
    candidates.push({ su, details, digest: userDigest(su, details, mapping), localpart: localpartOf(su.name, ctx.serverName)! });
  }
  if (!candidates.length) return;

  const stored = target ? await target.digests(candidates.map((c) => c.su.name)) : new Map<string, string>();
  const dirty = candidates.filter((c) => stored.get(c.su.name) !== c.digest);
  counts.users.unchanged += candidates.length - dirty.length;
  if (!dirty.length) return;

  const users = target ? await target.users(dirty.map((c) => c.localpart)) : new Map();
  const existingIds = [...users.values()].map((u) => u.id);
  const state = target && existingIds.length ? await target.sessions(existingIds) : { sessions: [], tokens: [] };
  const pairs = dirty.flatMap((c) =>
    (c.details?.externalIds ?? []).flatMap((e) => {
      const providerId = ctx.providerOf.get(e.authProvider);
      return providerId ? [{ providerId, subject: e.externalId }] : [];
    }),
  );
  const links = target ? await target.links(pairs) : new Map<string, string>();
  const emails = target && existingIds.length ? await target.emails(existingIds) : new Map<string, string[]>();

  const sessionsOf = groupBy(state.sessions, (s) => s.userId);
  const userOfSession = new Map(state.sessions.map((s) => [s.id, s.userId]));
  const tokensOf = groupBy(state.tokens, (t) => userOfSession.get(t.sessionId) ?? '');
  const writes = emptyWrites();
  for (const c of dirty) {
    const user = users.get(c.localpart);
    const existing: ExistingUserState | undefined = user
      ? { user, emails: emails.get(user.id) ?? [], sessions: sessionsOf.get(user.id) ?? [], tokens: tokensOf.get(user.id) ?? [] }
      : undefined;
    planUser(ctx, writes, c.su, c.details, existing, links, c.digest);
  }
  if (write && target && writeCount(writes)) await target.apply(writes);
}

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(r);
  }
  return out;
}
