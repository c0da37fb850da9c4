import { z } from 'zod';
import { ADMIN_ERRCODES } from './admin-error.js';

/** Schemas shared by the admin routes (requests and answers; the OpenAPI document is generated from them). */

export const pageQuery = {
  after: z.string().min(1).max(128).optional().meta({ description: 'The `next_after` of the previous page.' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: 'Page size (1-1000).' }),
};

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    next_after: z.string().nullable().meta({ description: 'Pass as `after` for the next page; null on the last page.' }),
  });

export const queryBool = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .meta({ description: '`true` or `false`' });

export const timestamp = z.number().int().meta({ description: 'Milliseconds since the epoch.' });
export const nullableTimestamp = timestamp.nullable();

/** Printable ASCII without spaces: every id and localpart Causeway issues or imports (Synapse's historical user ids included). */
const PRINTABLE = /^[\x21-\x7E]+$/;
export const userRef = z.string().min(1).max(255).regex(PRINTABLE).meta({ description: 'A Causeway user id or a localpart.' });
export const userParam = z.object({ user: userRef }).strict();
export const idParam = (name: string, description: string) => z.object({ [name]: z.string().min(1).max(128).regex(PRINTABLE).meta({ description }) }).strict();

export const errorBody = z
  .object({
    errcode: z.enum(ADMIN_ERRCODES),
    error: z.string().meta({ description: 'What went wrong, for a human.' }),
  })
  .meta({ id: 'Error' });

export const userView = z
  .object({
    id: z.string(),
    localpart: z.string(),
    matrix_id: z.string(),
    display_name: z.string().nullable(),
    created_at: timestamp,
    locked_at: nullableTimestamp,
    deactivated_at: nullableTimestamp,
    can_request_admin: z.boolean().meta({ description: 'The per-user admin flag (admin API, CLI, Synapse import).' }),
    idp_admin: z.boolean().meta({ description: "Set by a provider's `admin` rule at the last sign-in." }),
    admin: z.boolean().meta({ description: 'May request urn:synapse:admin:* (flag, IdP rule or policy.admin_localparts).' }),
  })
  .meta({ id: 'User' });

export const linkView = z.object({ id: z.string(), user_id: z.string(), provider: z.string(), subject: z.string(), created_at: timestamp }).meta({ id: 'UpstreamLink' });

export const sessionView = z
  .object({
    id: z.string(),
    kind: z.enum(['oauth2', 'personal', 'compat', 'browser']),
    user_id: z.string().nullable(),
    client_id: z.string().nullable(),
    device_id: z.string().nullable(),
    scope: z.array(z.string()).nullable(),
    name: z.string().nullable(),
    created_at: timestamp,
    last_active_at: nullableTimestamp,
    last_active_ip: z.string().nullable().meta({ description: 'Client address at the last recorded activity (token request, /login, /refresh, sign-in).' }),
    finished_at: nullableTimestamp,
    finish_reason: z.string().nullable(),
    user_agent: z.string().nullable(),
    provider: z.string().nullable().meta({ description: 'Browser sessions: the upstream provider signed in with.' }),
    active: z.boolean(),
  })
  .meta({ id: 'Session' });
