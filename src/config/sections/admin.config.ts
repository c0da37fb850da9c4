import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/** The admin API (/api/admin/v1) is off unless a token is configured. */
export const adminSection = z
  .object({ ...secretShape('token') })
  .strict()
  .transform((o, ctx) => {
    const token = resolveSecret(o, 'token', ctx, { required: false });
    if (token !== undefined && token.length < 16) ctx.addIssue({ code: 'custom', path: ['token'], message: 'must be at least 16 characters' });
    return { token };
  });
export type AdminConfig = z.infer<typeof adminSection>;
