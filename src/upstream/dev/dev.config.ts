import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';

/** Local username form for trying Causeway without an IdP. Refused unless `dev_mode: true`. */
export const devProviderSchema = z
  .object({ ...providerBaseShape, kind: z.literal('dev').describe('A local username form, for trying Causeway without an IdP (dev_mode only).') })
  .strict()
  .describe('The dev sign-in: a form asking for a username (dev_mode only).');
export type DevProviderConfig = z.infer<typeof devProviderSchema>;
