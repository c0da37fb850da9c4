import { Redis } from 'ioredis';
import type { GatewayConfig } from '../../config/config.schema.js';
import { dbKindOf, openDataSource } from '../../storage/data-source.js';
import { withTimeout } from '../../health/health.registry.js';
import { fail, pass, type Check } from '../doctor.js';
import { PROBE_TIMEOUT_MS, reasonOf } from '../probe.js';

/** The database answers, and every migration of this version has been applied. */
export function databaseCheck(config: GatewayConfig): Check {
  return async () => {
    const kind = dbKindOf(config.database.url);
    let ds;
    try {
      ds = await withTimeout(openDataSource({ url: config.database.url, schema: config.database.schema, pool_size: 1 }), 2 * PROBE_TIMEOUT_MS);
    } catch (e) {
      return [
        fail(
          'database',
          `${kind} unreachable (${reasonOf(e)})`,
          kind === 'postgres' ? 'check database.url and that PostgreSQL accepts connections from this host' : 'check database.url: the SQLite file must be readable and writable here',
        ),
      ];
    }
    try {
      const known = ds.migrations.map((m) => m.name!);
      const applied = new Set(((await ds.query('SELECT name FROM migrations').catch(() => [])) as { name: string }[]).map((r) => r.name));
      const pending = known.filter((n) => !applied.has(n));
      const unknown = [...applied].filter((n) => !known.includes(n));
      if (pending.length) {
        return [fail('database', `${kind} reachable; ${pending.length} of ${known.length} migrations not applied`, 'run `causeway migrate --config FILE`, or start Causeway with database.migrate_on_start: true')];
      }
      if (unknown.length) {
        return [fail('database', `${kind} reachable; it has ${unknown.length} migration(s) this version does not know (${unknown.join(', ')})`, 'a newer Causeway migrated this database: run that version')];
      }
      return [pass('database', `${kind} reachable, all ${known.length} migrations applied`)];
    } finally {
      await ds.destroy();
    }
  };
}

/** Redis answers PING (when configured). */
export function redisCheck(config: GatewayConfig): Check {
  return async () => {
    if (!config.redis) return [pass('redis', 'not configured (one replica, in-process event bus)')];
    const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: PROBE_TIMEOUT_MS, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const pong = await redis.ping();
      return pong === 'PONG' ? [pass('redis', `${redisHost(config.redis.url)} answers`)] : [fail('redis', `unexpected answer ${pong}`, 'is redis.url a Redis server?')];
    } catch (e) {
      return [fail('redis', `${redisHost(config.redis.url)} unreachable (${reasonOf(e)})`, 'check redis.url (and its password) and that Redis accepts connections from this host')];
    } finally {
      redis.disconnect();
    }
  };
}

/** host:port of a Redis URL, without its password. */
const redisHost = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 6379}`;
};
