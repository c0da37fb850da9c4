import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/config.schema.js';
import type { Database } from '../storage/database.service.js';
import { DbLease, RedisLease, type Lease } from '../storage/leases.js';

/** Held while a sweep runs and renewed between its batches; a holder that stops is replaced after this long. */
export const MAINTENANCE_LEASE_MS = 60_000;

/** The one lease every sweeper competes for (servers and the `manage cleanup` CLI): Redis when configured, else the database. */
export function maintenanceLease(config: GatewayConfig, db: Database, redis: Redis | null, role: 'server' | 'cli'): Lease {
  const owner = `${role}:${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return redis && config.redis ? new RedisLease(redis, `${config.redis.key_prefix}maintenance:lease`, owner, MAINTENANCE_LEASE_MS) : new DbLease(db, 'maintenance', owner, MAINTENANCE_LEASE_MS);
}
