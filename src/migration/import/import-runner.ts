import type { SynapsePageUser, SynapseUser, SynapseUserDetails } from '../synapse-db/synapse-rows.js';
import type { SynapseSource } from '../synapse-db/synapse-source.js';
import { emptyWrites, writeCount } from './causeway-state.js';
import type { CausewayTarget } from './causeway-target.js';
import { fastUlid } from './fast-ulid.js';
import { emptyCounts, type ImportCounts } from './import-counts.js';
import { countRead, countSkipped, localpartOf, mappingKey, planUser, skipReason, userDigest, type ExistingUserState, type PlanContext } from './import-plan.js';

/** Users per page: one Causeway transaction each (1,000: the lowest peak memory measured, and no slower than 2,000). */
export const DEFAULT_PAGE_SIZE = 1000;

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

interface Candidate {
  user: SynapseUser;
  localpart: string;
  digest: string;
}

/** A page read and compared: the users whose digest changed, with their rows. */
interface Page {
  dirty: Candidate[];
  details: Map<string, SynapseUserDetails>;
}

/**
 * One run, page by page. For each page of Synapse users (with the fingerprint Synapse's database
 * computes of their rows), the users whose digest differs from what an earlier run applied are
 * read in full, planned against Causeway's state and written in one transaction; the others are
 * not touched. A second run therefore reads little and writes only what is new or changed, and a
 * run interrupted anywhere resumes at the first page it had not committed.
 *
 * Pages are independent (a user's rows are all in its page, and Synapse's unique keys keep two
 * users from sharing an external id), so the next page is read and compared while the current one
 * is planned, and planned while the previous one is written.
 */
export async function runImport(source: SynapseSource, opts: ImportRunOptions): Promise<ImportCounts> {
  const counts = emptyCounts();
  const now = opts.now ?? Date.now();
  const ctx: PlanContext = { now, serverName: opts.serverName, providerOf: opts.providerOf, counts, newId: fastUlid };
  const mapping = mappingKey(ctx);
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  const target = opts.target;
  const write = opts.mode !== 'check' && !!target;

  const readPage = async (after: string, upTo: string | undefined): Promise<Page> => {
    const rows = await source.usersPage(after, upTo);
    const candidates = classify(ctx, rows, mapping);
    const stored = target && candidates.length ? await target.digests(candidates.map((c) => c.user.name)) : new Map<string, string>();
    const dirty = candidates.filter((c) => stored.get(c.user.name) !== c.digest);
    counts.users.unchanged += candidates.length - dirty.length;
    // A first run reads the page's whole id range; a later one only the users that changed.
    const details = !dirty.length
      ? new Map<string, SynapseUserDetails>()
      : dirty.length * 2 >= rows.length
        ? await source.details(rows[0]!.user.name, rows[rows.length - 1]!.user.name)
        : await source.detailsOf(dirty.map((c) => c.user.name));
    return { dirty, details };
  };

  opts.progress?.start(await source.userCount());
  if (write && opts.mode === 'dry-run') await target.beginDryRun();
  let writing: Promise<void> = Promise.resolve();
  const reads: (Promise<Page> | undefined)[] = [];
  try {
    // Pages are key ranges fixed up front, so several can be read at once (PostgreSQL: one
    // connection each, on one snapshot) while the current one is planned and the previous written.
    const bounds = await source.pageBounds(pageSize);
    const ranges: [string, string | undefined][] = [...bounds.map((b, i): [string, string] => [i ? bounds[i - 1]! : '', b]), [bounds.at(-1) ?? '', undefined]];
    const startRead = (i: number) => {
      if (i >= ranges.length) return;
      const read = readPage(...ranges[i]!);
      read.catch(() => undefined);
      reads[i] = read;
    };
    for (let i = 0; i < source.parallelism; i++) startRead(i);
    for (let i = 0; i < ranges.length; i++) {
      const page = await reads[i]!;
      reads[i] = undefined;
      startRead(i + source.parallelism);
      const writes = await planPage(ctx, page, target);
      // One page is written while the next is read and planned; a failed write stops the run.
      await writing;
      if (write && writeCount(writes)) writing = target.apply(writes);
      opts.progress?.page(counts);
    }
    await writing;
    if (write && opts.mode === 'dry-run') await target.rollbackDryRun();
  } catch (e) {
    await writing.catch(() => undefined);
    await Promise.all(reads.flatMap((r) => (r ? [r.catch(() => undefined)] : [])));
    if (write && opts.mode === 'dry-run') await target.rollbackDryRun().catch(() => undefined);
    throw e;
  }
  opts.progress?.finish(counts);
  return counts;
}

/** Users of a page the import considers, with their digests; the others are counted as left out. */
function classify(ctx: PlanContext, rows: SynapsePageUser[], mapping: string): Candidate[] {
  const out: Candidate[] = [];
  for (const { user, fingerprint } of rows) {
    ctx.counts.users.read++;
    const skip = skipReason(user, ctx.serverName);
    if (skip) countSkipped(ctx.counts, skip);
    else out.push({ user, localpart: localpartOf(user.name, ctx.serverName)!, digest: userDigest(user, fingerprint, mapping) });
  }
  return out;
}

async function planPage(ctx: PlanContext, page: Page, target: CausewayTarget | undefined) {
  const writes = emptyWrites();
  const { dirty, details } = page;
  if (!dirty.length) return writes;
  const users = target ? await target.users(dirty.map((c) => c.localpart)) : new Map();
  const existingIds = [...users.values()].map((u) => u.id);
  const state = target && existingIds.length ? await target.sessions(existingIds) : { sessions: [], tokens: [] };
  const emails = target && existingIds.length ? await target.emails(existingIds) : new Map<string, string[]>();
  const pairs = dirty.flatMap((c) =>
    (details.get(c.user.name)?.externalIds ?? []).flatMap((e) => {
      const providerId = ctx.providerOf.get(e.authProvider);
      return providerId ? [{ providerId, subject: e.externalId }] : [];
    }),
  );
  const links = target ? await target.links(pairs) : new Map<string, string>();

  const sessionsOf = groupBy(state.sessions, (s) => s.userId);
  const userOfSession = new Map(state.sessions.map((s) => [s.id, s.userId]));
  const tokensOf = groupBy(state.tokens, (t) => userOfSession.get(t.sessionId) ?? '');
  for (const c of dirty) {
    const d = details.get(c.user.name);
    countRead(ctx.counts, d);
    const user = users.get(c.localpart);
    const existing: ExistingUserState | undefined = user ? { user, emails: emails.get(user.id) ?? [], sessions: sessionsOf.get(user.id) ?? [], tokens: tokensOf.get(user.id) ?? [] } : undefined;
    planUser(ctx, writes, c.user, d, existing, links, c.digest);
  }
  return writes;
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
