import { z } from 'zod';
import { duration } from '../../../config/duration.js';
import { publicValueShape } from '../../../config/secret-ref.js';

/** Which IdPs of the aggregate the provider offers; every list that is given must match (empty: all IdPs). */
export const entityFilterSection = z
  .object({
    registration_authorities: z.array(z.string().min(1)).default([]).describe('Only IdPs registered by one of these federations (`mdrpi:RegistrationInfo` `registrationAuthority`, e.g. `https://www.aai.dfn.de`).'),
    entity_ids: z.array(z.string().min(1)).default([]).describe('Only these entity IDs.'),
    exclude_entity_ids: z.array(z.string().min(1)).default([]).describe('Never these entity IDs.'),
    entity_categories: z
      .array(z.string().min(1))
      .default([])
      .describe('Only IdPs with one of these entity categories or entity category supports (`mdattr:EntityAttributes`, e.g. `http://refeds.org/category/research-and-scholarship`).'),
  })
  .strict()
  .describe('Which IdPs of the aggregate are offered.');

export const federationSection = z
  .object({
    metadata_url: z.url().optional().describe("URL of the federation's signed metadata aggregate (https). Give `metadata_url` or `metadata_file`."),
    metadata_file: z.string().min(1).optional().describe('Path of a file holding the signed metadata aggregate (re-read on each refresh).'),
    ...publicValueShape('signing_cert', "The federation's metadata signing certificate: the aggregate must carry a valid signature by it (required)."),
    refresh_interval: duration(5).default(3600).describe('How often the aggregate is fetched again, in the background (an unchanged document is not read again); a failed or refused refresh keeps the last good copy.'),
    require_valid_until: z.boolean().default(true).describe('Refuse an aggregate without `validUntil` (a signed aggregate without an end could be replayed forever).'),
    entity_filter: entityFilterSection.prefault({}),
    mdq_url: z
      .url()
      .optional()
      .describe(
        "Base URL of the federation's Metadata Query (MDQ) service: an IdP chosen through `discovery_url` that is not in the aggregate is looked up at `<mdq_url>/entities/<entityID>` (signed by `signing_cert`).",
      ),
    discovery_url: z.url().optional().describe("An external discovery service (WAYF) speaking the SAML IdP Discovery protocol: people choose their IdP there instead of on Causeway's discovery page."),
    max_size_mb: z.number().int().min(1).max(512).default(128).describe('Largest aggregate accepted, in megabytes.'),
    parse_timeout: duration(5).default(120).describe('Longest time reading and checking one aggregate may take (it runs in a worker thread, which is stopped then).'),
    parse_memory_mb: z.number().int().min(64).max(4096).default(512).describe('Heap limit of the worker thread that reads the aggregate, in megabytes.'),
    timeout_ms: z.number().int().min(100).max(600000).default(60000).describe('Timeout of one aggregate download, in milliseconds.'),
    remember_days: z.number().int().min(0).max(400).default(90).describe('How long the browser remembers the IdP a person chose (a cookie); 0: not remembered.'),
  })
  .strict()
  .describe('A SAML federation (eduGAIN, InCommon, DFN-AAI, …): every IdP of a signed metadata aggregate, chosen on a discovery page. Replaces `metadata_url`, `metadata_file` and `idp`.');
export type FederationConfig = z.output<typeof federationSection>;
