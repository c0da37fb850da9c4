import { z } from 'zod';

export const policySection = z
  .object({
    /** Dev/test switch: allow http (not https) client and redirect URIs on loopback hosts in DCR. */
    allow_insecure_uris: z.boolean().default(false),
    /** Localparts that may be granted `urn:synapse:admin:*` in interactive logins. */
    admin_localparts: z.array(z.string()).default([]),
    /** Localparts no one may register (in addition to built-in reserved ones). */
    reserved_localparts: z.array(z.string()).default([]),
  })
  .strict();
export type PolicyConfig = z.infer<typeof policySection>;
