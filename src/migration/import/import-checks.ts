import type { GatewayConfig } from '../../config/config.schema.js';
import type { ProviderConfig } from '../../upstream/providers.schema.js';
import type { SynapseHomeserverConfig } from '../synapse-config/homeserver-config.js';
import type { ImportCounts } from './import-counts.js';

/** `auth_provider` rows MAS writes when Synapse delegated to it (not an SSO provider). */
const MAS_SUBJECT_PROVIDER = 'oauth-delegated';

export interface Findings {
  /** A real run refuses while any of these stand. */
  blockers: string[];
  warnings: string[];
}

/** Synapse `auth_provider` → Causeway provider id, through each provider's `synapse_idp_id`. */
export function providerMapping(config: GatewayConfig<ProviderConfig>): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of config.upstream.providers) if (p.synapse_idp_id) out.set(p.synapse_idp_id, p.id);
  return out;
}

/** Findings from the configs alone (before reading the database). */
export function configFindings(config: GatewayConfig<ProviderConfig>, hs: SynapseHomeserverConfig | undefined): Findings {
  const f: Findings = { blockers: [], warnings: [] };
  if (!hs) return f;
  if (hs.serverName && hs.serverName !== config.matrix.homeserver) {
    f.blockers.push(`matrix.homeserver is "${config.matrix.homeserver}" but ${hs.file} has server_name: ${hs.serverName}; they must be equal`);
  }
  const mapped = providerMapping(config);
  const synapseIds = new Set(hs.providers.map((p) => p.idpId));
  for (const p of hs.providers) {
    if (!mapped.has(p.idpId)) {
      f.warnings.push(
        `${hs.file}: ${p.keyPath} ("${p.name}", auth_provider "${p.idpId}") has no Causeway provider with synapse_idp_id: ${p.idpId}` +
          ' (its users keep their sessions but cannot sign in again through it; `causeway config from-synapse` writes one)',
      );
    }
  }
  for (const [idp, id] of mapped) {
    if (!synapseIds.has(idp)) f.warnings.push(`upstream provider "${id}" has synapse_idp_id: ${idp}, which no SSO provider of ${hs.file} has`);
  }
  const raw = hs.raw;
  if (raw.enable_registration === true) f.warnings.push(`${hs.file}: enable_registration is on; Synapse refuses it once auth is delegated: remove it when switching`);
  if (raw.allow_guest_access === true) f.warnings.push(`${hs.file}: allow_guest_access is on; Causeway has no guests (guest users are not imported)`);
  const password = raw.password_config as Record<string, unknown> | undefined;
  if (password?.enabled !== false) f.warnings.push(`${hs.file}: password login is on; it ends with the switch (Causeway has no passwords: see "password-only users")`);
  return f;
}

/** What the preflight found (whole tables, read before anything is written). */
export interface Preflight {
  externalIdsByProvider: Record<string, number>;
  otherServerUsers: number;
}

/** Blockers (and warnings) from the preflight. `ignoreUnmapped`: unmapped auth_providers are warnings, not blockers. */
export function preflightFindings(config: GatewayConfig<ProviderConfig>, hs: SynapseHomeserverConfig | undefined, pre: Preflight, ignoreUnmapped: boolean): Findings {
  const f: Findings = { blockers: [], warnings: [] };
  if (pre.otherServerUsers) {
    f.blockers.push(`${pre.otherServerUsers} Synapse user(s) are not @…:${config.matrix.homeserver}: matrix.homeserver must be Synapse's server_name`);
  }
  const mapped = providerMapping(config);
  for (const [provider, rows] of Object.entries(pre.externalIdsByProvider)) {
    if (mapped.has(provider)) continue;
    if (provider === MAS_SUBJECT_PROVIDER) {
      f.warnings.push(`${rows} user_external_ids row(s) of auth_provider "${MAS_SUBJECT_PROVIDER}" were written by an earlier delegation to MAS: not imported`);
      continue;
    }
    const synapse = hs?.providers.find((p) => p.idpId === provider);
    const where = synapse ? ` (${hs!.file}: ${synapse.keyPath}, "${synapse.name}")` : hs ? ` (not in ${hs.file})` : '';
    const message = `${rows} external id(s) of auth_provider "${provider}"${where}: no upstream provider has synapse_idp_id: ${provider}, so these users could not sign in again through it`;
    if (ignoreUnmapped) f.warnings.push(message);
    else f.blockers.push(`${message} (add the provider, or pass --ignore-unmapped-providers)`);
  }
  return f;
}

/** Warnings from what the run read and planned. */
export function dataFindings(c: ImportCounts): Findings {
  const f: Findings = { blockers: [], warnings: [] };
  if (c.links.conflicts) f.warnings.push(`${c.links.conflicts} external id(s) are already linked to another Causeway account: left alone (${c.links.conflictSample.join('; ')})`);
  if (c.users.passwordOnly) {
    f.warnings.push(
      `${c.users.passwordOnly} password-only user(s) (${c.users.passwordOnlySample.join(', ')}${c.users.passwordOnly > c.users.passwordOnlySample.length ? ', …' : ''}): ` +
        'they keep their sessions, but Causeway has no passwords: to sign in again they need an upstream identity linked to their account ' +
        '(a trusted provider with on_conflict: link whose localpart template gives their localpart, or an admin)',
    );
  }
  if (c.users.guests) f.warnings.push(`${c.users.guests} guest user(s) are left out (Causeway has no guests)`);
  if (c.users.appservice) f.warnings.push(`${c.users.appservice} appservice user(s) are left out (their appservice keeps managing them)`);
  const t = c.tokens;
  if (t.expired) f.warnings.push(`${t.expired} access token(s) have already expired: left out`);
  if (t.puppet) f.warnings.push(`${t.puppet} puppet token(s) (admin "login as user") are left out`);
  if (t.deviceless) f.warnings.push(`${t.deviceless} access token(s) without a device are left out (Causeway sessions always have a device)`);
  if (t.orphan) f.warnings.push(`${t.orphan} access token(s) whose device no longer exists are left out`);
  if (t.unrecognised) f.warnings.push(`${t.unrecognised} token(s) in a format Synapse did not issue (neither syt_/syr_ nor a macaroon) are left out`);
  if (c.emails.otherMedia) f.warnings.push(`${c.emails.otherMedia} threepid(s) that are not emails (phone numbers) are left out`);
  return f;
}

export function mergeFindings(...list: Findings[]): Findings {
  return { blockers: list.flatMap((f) => f.blockers), warnings: list.flatMap((f) => f.warnings) };
}

export function formatFindings(f: Findings): string {
  const out: string[] = [];
  if (f.blockers.length) out.push('blockers:', ...f.blockers.map((b) => `  ✗ ${b}`));
  if (f.warnings.length) out.push('warnings:', ...f.warnings.map((w) => `  ! ${w}`));
  if (!f.blockers.length) out.push('no blockers');
  return `${out.join('\n')}\n`;
}
