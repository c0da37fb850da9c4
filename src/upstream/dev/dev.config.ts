import { z } from 'zod';
import { providerBaseShape } from '../provider.config.js';

/** Local username form for trying Causeway without an IdP. Refused unless `dev_mode: true`. */
export const devProviderSchema = z.object({ ...providerBaseShape, kind: z.literal('dev') }).strict();
export type DevProviderConfig = z.infer<typeof devProviderSchema>;
