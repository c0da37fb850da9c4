import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The parts of Synapse's homeserver.yaml the migration reads (Synapse 1.157,
 * synapse/config/{server,oidc,saml2,cas,registration,password}.py): the server name and the SSO
 * providers with the `auth_provider` id Synapse stored in `user_external_ids` for each.
 */

export type SsoKind = 'oidc' | 'saml' | 'cas';

export interface SynapseSsoProvider {
  kind: SsoKind;
  /** The `auth_provider` of this provider's rows in user_external_ids (`oidc-<idp_id>`, `oidc`, `saml`, `cas`). */
  idpId: string;
  /** Key path of its block in homeserver.yaml (`oidc_providers[0]`, `saml2_config`, `cas_config`). */
  keyPath: string;
  name: string;
  /** The block as written (a mapping). */
  block: Record<string, unknown>;
}

export interface SynapseHomeserverConfig {
  file: string;
  serverName: string | undefined;
  providers: SynapseSsoProvider[];
  raw: Record<string, unknown>;
}

export class HomeserverConfigError extends Error {}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export function readHomeserverConfig(file: string): SynapseHomeserverConfig {
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8'), { uniqueKeys: false });
  } catch (e) {
    throw new HomeserverConfigError(`${file}: cannot read it as YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isMap(raw)) throw new HomeserverConfigError(`${file}: expected a mapping (Synapse's homeserver.yaml)`);
  return { file, serverName: typeof raw.server_name === 'string' ? raw.server_name : undefined, providers: ssoProviders(raw), raw };
}

/** Synapse's enabled SSO providers, in the order Synapse lists them. */
export function ssoProviders(raw: Record<string, unknown>): SynapseSsoProvider[] {
  const out: SynapseSsoProvider[] = [];
  const oidc = Array.isArray(raw.oidc_providers) ? raw.oidc_providers : [];
  oidc.forEach((p, i) => {
    if (!isMap(p) || p.enabled === false) return;
    out.push({ kind: 'oidc', idpId: oidcIdpId(p), keyPath: `oidc_providers[${i}]`, name: str(p.idp_name) ?? 'OIDC', block: p });
  });
  // The single legacy `oidc_config` block counts only with `enabled: true`; its idp_id defaults to "oidc".
  if (isMap(raw.oidc_config) && raw.oidc_config.enabled === true) {
    out.push({ kind: 'oidc', idpId: oidcIdpId(raw.oidc_config), keyPath: 'oidc_config', name: str(raw.oidc_config.idp_name) ?? 'OIDC', block: raw.oidc_config });
  }
  const saml = raw.saml2_config;
  if (isMap(saml) && saml.enabled !== false && (saml.sp_config !== undefined || saml.config_path !== undefined)) {
    out.push({ kind: 'saml', idpId: 'saml', keyPath: 'saml2_config', name: str(saml.idp_name) ?? 'SAML', block: saml });
  }
  const cas = raw.cas_config;
  if (isMap(cas) && cas.enabled !== false) {
    out.push({ kind: 'cas', idpId: 'cas', keyPath: 'cas_config', name: str(cas.idp_name) ?? 'CAS', block: cas });
  }
  return out;
}

/** Synapse prefixes every OIDC idp_id but the default "oidc" with "oidc-" (synapse/config/oidc.py). */
function oidcIdpId(p: Record<string, unknown>): string {
  const id = str(p.idp_id) ?? 'oidc';
  return id === 'oidc' ? id : `oidc-${id}`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
