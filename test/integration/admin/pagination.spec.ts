import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { In } from 'typeorm';
import { startCauseway, type CausewayProcess } from '../../support/causeway.js';
import { CausewayDb } from '../../support/causeway-db.js';
import { TEST_DBS } from '../../support/databases.js';
import { Database } from '../../../src/storage/database.service.js';
import { UpstreamLinkEntity, UserEntity } from '../../../src/storage/entities/index.js';
import { UserRepository } from '../../../src/storage/repositories/user.repository.js';
import { ulid } from '../../../src/storage/ulid.js';
import { ADMIN, adminCall } from './admin-http.js';

/**
 * Cursor pagination of /users over 10,000 users (seeded through UserRepository.insertMany, not
 * through the API): every user exactly once, in id order, with filters combined, and stable while
 * users are being added.
 */
const N = 10_000;
const lp = (i: number) => `u${String(i).padStart(5, '0')}`;
const locked = (i: number) => i % 3 === 0;
const deactivated = (i: number) => i % 7 === 0;
const isAdmin = (i: number) => i % 5 === 0;
const linked = (i: number) => i % 11 === 0;

describe.each(TEST_DBS)('user pagination on %s', (kind) => {
  let cw: CausewayProcess;
  let db: CausewayDb;
  let ids: string[];

  const pageThrough = async (query: string, limit: number, between?: (page: number) => Promise<void>) => {
    const seen: { id: string; localpart: string }[] = [];
    let after: string | null = null;
    for (let page = 0; ; page++) {
      const r = await adminCall(cw.url, 'GET', `/users?limit=${limit}${query ? `&${query}` : ''}${after ? `&after=${after}` : ''}`, undefined, ADMIN);
      expect(r.status).toBe(200);
      const data = r.json.data as { id: string; localpart: string }[];
      expect(data.length).toBeLessThanOrEqual(limit);
      seen.push(...data);
      after = r.json.next_after as string | null;
      if (!after) break;
      await between?.(page);
    }
    return seen;
  };

  beforeAll(async () => {
    cw = await startCauseway({ db: kind, config: { admin: { token: ADMIN } } });
    db = await CausewayDb.open(cw.database);
    const repo = new UserRepository(new Database(db.ds, cw.database.url));
    const start = Date.now() - N;
    ids = await repo.insertMany(Array.from({ length: N }, (_, i) => ({ localpart: lp(i), createdAt: start + i, canRequestAdmin: isAdmin(i) })));
    const pick = (pred: (i: number) => boolean) => ids.filter((_, i) => pred(i));
    for (const [pred, set] of [
      [locked, { locked_at: 1 }],
      [deactivated, { deactivated_at: 1 }],
    ] as const) {
      const chosen = pick(pred);
      for (let i = 0; i < chosen.length; i += 500) await db.ds.manager.update(UserEntity, { id: In(chosen.slice(i, i + 500)) }, set);
    }
    const links = pick(linked).map((id, k) => ({ id: ulid(), provider_id: 'dev', subject: `s${k}`, user_id: id, created_at: 1 }));
    await db.ds.createQueryBuilder().insert().into(UpstreamLinkEntity).values(links).execute();
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await cw?.dispose();
  });

  it('returns each of the 10,000 users exactly once, in id order', async () => {
    const seen = await pageThrough('', 997);
    expect(seen.length).toBe(N);
    expect(new Set(seen.map((u) => u.id)).size).toBe(N);
    expect(seen.map((u) => u.id)).toEqual(ids);
    expect(seen.map((u) => u.localpart)).toEqual(Array.from({ length: N }, (_, i) => lp(i)));
  });

  it('combines filters: localpart prefix, status, admin and provider', async () => {
    const expected = Array.from({ length: N }, (_, i) => i).filter((i) => lp(i).startsWith('u01') && !locked(i) && !deactivated(i) && !isAdmin(i) && linked(i));
    expect(expected.length).toBeGreaterThan(10);
    const seen = await pageThrough('localpart=u01&status=active&admin=false&provider=dev', 7);
    expect(seen.map((u) => u.localpart)).toEqual(expected.map(lp));

    const lockedAdmins = await pageThrough('status=locked&admin=true', 500);
    expect(lockedAdmins.map((u) => u.localpart)).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => locked(i) && !deactivated(i) && isAdmin(i))
        .map(lp),
    );
    const deact = await pageThrough('status=deactivated&localpart=u099', 3);
    expect(deact.map((u) => u.localpart)).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter((i) => deactivated(i) && lp(i).startsWith('u099'))
        .map(lp),
    );
  });

  it('stays stable while users are added between pages: no duplicates, nobody skipped', async () => {
    let added = 0;
    const seen = await pageThrough('localpart=u0', 400, async () => {
      const r = await adminCall(cw.url, 'POST', '/users', { localpart: `u0new${added++}`, skip_homeserver_check: true }, ADMIN);
      expect(r.status).toBe(201);
    });
    const ids = seen.map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const original = seen.filter((u) => !u.localpart.startsWith('u0new')).map((u) => u.localpart);
    expect(original).toEqual(Array.from({ length: N }, (_, i) => lp(i)).filter((l) => l.startsWith('u0')));
    // Users created during the walk come after every seeded one (ids grow), so they are seen too.
    expect(seen.filter((u) => u.localpart.startsWith('u0new')).length).toBe(added);
  });
});
