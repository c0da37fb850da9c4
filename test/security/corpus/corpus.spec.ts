import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TEST_DBS } from '../../support/databases.js';
import { Agent, judge, summaryLine, type CorpusCase, type Family, type Outcome } from './corpus-case.js';
import { startCorpusServer, type CorpusContext } from './corpus-server.js';
import { CORPUS } from './tables/index.js';
import { FUZZ_TARGETS, fuzzTarget } from './endpoint-fuzz.js';

/**
 * The hostile-input corpus (issue 13): every case of tables/ against one Causeway per database.
 * Each case must be refused the way its protocol says, and none may get a 5xx, a session cookie,
 * a token or a redirect to a foreign host. Prints one line per database:
 *   N cases, N refused as expected, 0 accepted wrongly, 0 server errors
 */
const CONCURRENCY = 4;

async function runCase(ctx: CorpusContext, c: CorpusCase): Promise<Outcome> {
  try {
    const prepared = c.prepare ? await c.prepare(ctx) : undefined;
    const agent = (prepared as { agent?: Agent } | undefined)?.agent ?? (c.as === 'victim' ? await ctx.victimAgent() : new Agent());
    const hops = await agent.send(ctx.url, c.request(ctx, prepared));
    const afterProblem = c.after ? await c.after(ctx, prepared) : undefined;
    return judge(c, ctx, hops, afterProblem);
  } catch (e) {
    return { id: c.id, family: c.family, verdict: 'mismatch', why: `the case itself failed: ${(e as Error).stack ?? e}` };
  }
}

async function runCorpus(ctx: CorpusContext, cases: CorpusCase[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < cases.length) {
        const i = next++;
        outcomes[i] = await runCase(ctx, cases[i]!);
      }
    }),
  );
  return outcomes;
}

const FAMILIES: Family[] = ['authorize', 'token', 'registration', 'revoke', 'introspect', 'device', 'end-session', 'compat', 'account', 'admin', 'upstream-oidc', 'upstream-saml', 'upstream-cas'];

it('has at least 300 distinct cases, every endpoint family with at least 15', () => {
  const ids = CORPUS.map((c) => c.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids.length).toBeGreaterThanOrEqual(300);
  for (const f of FAMILIES) expect([f, CORPUS.filter((c) => c.family === f).length >= 15]).toEqual([f, true]);
  for (const c of CORPUS) expect(c.id.startsWith(`${c.family}/`)).toBe(true);
});

describe.each(TEST_DBS)('hostile-input corpus (%s)', (db) => {
  let ctx: CorpusContext;
  beforeAll(async () => {
    ctx = await startCorpusServer(db);
  }, 180_000);
  afterAll(async () => {
    await ctx?.dispose();
  });

  it('refuses every case as its protocol says, with no 5xx and nothing granted', async () => {
    const only = process.env.CORPUS_ONLY;
    const cases = only ? CORPUS.filter((c) => c.id.includes(only)) : CORPUS;
    const outcomes = await runCorpus(ctx, cases);
    process.stdout.write(`corpus (${db}): ${summaryLine(outcomes)}\n`);
    const failed = outcomes.filter((o) => o.verdict !== 'refused').map((o) => `${o.verdict} ${o.id}: ${o.why}`);
    expect(failed).toEqual([]);
    // Nothing reached the catch-all error writer either.
    expect(ctx.cw.logs.filter((l) => l.includes('unhandled error') || l.includes('"level":"error"'))).toEqual([]);
  }, 300_000);

  it('fuzzed requests (fast-check, bounded runs) get no 5xx and nothing granted', async () => {
    const failures = [];
    for (const t of FUZZ_TARGETS) failures.push(...(await fuzzTarget(ctx, t)).map((f) => `${f.verdict} ${t.name}: ${f.why} ← ${JSON.stringify(f.request).slice(0, 300)}`));
    expect(failures).toEqual([]);
    expect(ctx.cw.logs.filter((l) => l.includes('unhandled error') || l.includes('"level":"error"'))).toEqual([]);
  }, 300_000);
});
