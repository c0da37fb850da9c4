import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** Optional. With it: the event bus uses Redis Streams, login state is shared, several replicas may run. */
export const redisSection = z
  .object({
    ...secretShape('url'),
    /** Prefix of every key and stream Causeway writes. */
    key_prefix: z.string().regex(/^[A-Za-z0-9:_-]*$/).default('causeway:'),
  })
  .strict()
  .transform((o, ctx) => {
    const url = resolveSecret(o, 'url', ctx, { required: true });
    if (url && !/^rediss?:\/\//.test(url)) ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected redis://… or rediss://…' });
    return { url: url ?? '', key_prefix: o.key_prefix };
  });
export type RedisConfig = z.infer<typeof redisSection>;
