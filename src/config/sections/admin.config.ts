import { z } from 'zod';
import { resolveSecret, secretShape } from '../secret-ref.js';

/**
 * The admin API (/api/admin/v1). Callers authenticate with the static `token`, or with an OAuth
 * access token carrying `urn:causeway:admin`. `enabled` defaults to whether a token is configured.
 */
export const adminSection = z
  .object({
    ...secretShape('token', 'Static bearer token of the admin API (at least 16 characters).'),
    enabled: z.boolean().optional().describe('Serve the admin API; default: when `token` is set. Without a token, callers use OAuth access tokens carrying `urn:causeway:admin`.'),
  })
  .strict()
  .transform((o, ctx) => {
    const token = resolveSecret(o, 'token', ctx, { required: false });
    if (token !== undefined && token.length < 16) ctx.addIssue({ code: 'custom', path: ['token'], message: 'must be at least 16 characters' });
    return { token, enabled: o.enabled ?? token !== undefined };
  })
  .describe('The admin API (`/api/admin/v1`): the static token, or OAuth access tokens carrying `urn:causeway:admin`.');
