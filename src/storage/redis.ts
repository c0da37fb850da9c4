import { Redis } from 'ioredis';

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
