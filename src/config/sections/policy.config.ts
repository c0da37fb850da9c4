import { z } from 'zod';

export const policySection = z
  .object({
    allow_insecure_uris: z.boolean().default(false).describe('dev_mode only: accept http (not https) client and redirect URIs on loopback hosts in client registration.'),
    admin_localparts: z.array(z.string()).default([]).describe('Localparts that may be granted `urn:synapse:admin:*` (Synapse admin) in interactive sign-ins.'),
    reserved_localparts: z.array(z.string()).default([]).describe('Localparts no one may register, besides the built-in reserved ones.'),
  })
  .strict()
  .describe('Policies for clients and accounts.');
export type PolicyConfig = z.infer<typeof policySection>;
