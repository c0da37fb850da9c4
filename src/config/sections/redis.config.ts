import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** Optional. With it: the event bus uses Redis Streams, login state is shared, several replicas may run. */
export const redisSection = z
  .object({
    ...secretShape('url', 'Redis URL, `redis://[:password@]host:port[/db]` or `rediss://…` for TLS.'),
    key_prefix: z
      .string()
      .regex(/^[A-Za-z0-9:_-]*$/)
      .default('causeway:')
      .describe('Prefix of every key and stream Causeway writes (several deployments can share one Redis).'),
  })
  .strict()
  .transform((o, ctx) => {
    const url = resolveSecret(o, 'url', ctx, { required: true });
    if (url && !/^rediss?:\/\//.test(url)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected redis://… or rediss://…' });
    return { url: url ?? '', key_prefix: o.key_prefix };
  })
  .describe('Redis (optional): with it the event bus uses Redis Streams, login state and rate limits are shared, and several replicas may run.');
