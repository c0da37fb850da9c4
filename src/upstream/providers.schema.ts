import { z } from 'zod';
import { CONNECTOR_KINDS } from './connector-kinds.js';

type Kinds = typeof CONNECTOR_KINDS;
type KindSchema = Kinds[keyof Kinds]['schema'];

/** The kinds of upstream provider, discriminated by `kind`: one option per entry of the connector table. */
export const providerSchema = z.discriminatedUnion('kind', Object.values(CONNECTOR_KINDS).map((k) => k.schema) as [KindSchema, ...KindSchema[]]);
export type ProviderConfig = z.infer<typeof providerSchema>;
export type ProviderKind = keyof Kinds;
export const PROVIDER_KINDS = Object.keys(CONNECTOR_KINDS) as ProviderKind[];
