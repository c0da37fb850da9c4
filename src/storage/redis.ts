import { Redis } from 'ioredis';

/**
 * Deletes KEYS[1] only while it still holds ARGV[1]: how an owner releases a lock or lease it set
 * with its own random token, without deleting one that expired and was taken by someone else.
 */
export const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** One ioredis connection. Commands queue while disconnected and are retried; callers see errors only when offline for long. */
export function connectRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
    lazyConnect: false,
  });
}
