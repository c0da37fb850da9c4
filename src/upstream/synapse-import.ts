import type { EntityManager } from 'typeorm';
import type { GatewayConfig } from '../config/config.schema.js';
import type { Database } from '../storage/database.service.js';
import { UpstreamLinkEntity, UserEntity } from '../storage/entities/index.js';
import { ulid } from '../storage/ulid.js';

/**
 * Migration from Synapse's own SSO (OIDC, SAML, CAS): Synapse kept each SSO user's identity in
 * `user_external_ids (auth_provider, external_id, user_id)`. For every provider whose
 * `synapse_idp_id` equals an `auth_provider`, each row becomes an upstream link
 * (provider id, subject = external_id) to the Causeway account of that Matrix user (created when
 * missing: the user already exists on the homeserver). The provider's `claims.subject` must
 * produce what Synapse stored (SAML: `{{ user.uid }}` with Synapse's default mapping provider;
 * OIDC: `sub` unless Synapse's `subject_claim` said otherwise; CAS: the CAS user).
 */

export interface ExternalIdRow {
  authProvider: string;
  externalId: string;
  userId: string;
}

export type ExportFormat = 'copy' | 'tsv';

/**
 * Reads the export: three tab-separated columns per line. `copy` is PostgreSQL's COPY text format
 * (psql `\copy … TO file`: backslash escapes, `\N` for NULL); `tsv` takes values verbatim (sqlite3
 * `-separator $'\t'`). A header line naming the columns is skipped.
 */
export function parseExternalIds(text: string, format: ExportFormat): { rows: ExternalIdRow[]; malformed: number[] } {
  const rows: ExternalIdRow[] = [];
  const malformed: number[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line === '' || (i === 0 && /^auth_provider\texternal_id\tuser_id$/.test(line))) return;
    const cols = line.split('\t').map((c) => (format === 'copy' ? unescapeCopy(c) : c));
    if (cols.length !== 3 || cols.some((c) => c === null || c === '')) {
      malformed.push(i + 1);
      return;
    }
    const [authProvider, externalId, userId] = cols as string[];
    rows.push({ authProvider: authProvider!, externalId: externalId!, userId: userId! });
  });
  return { rows, malformed };
}

function unescapeCopy(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' } as Record<string, string>)[e] ?? e;
  });
}

export interface ImportReport {
  linked: number;
  alreadyLinked: number;
  usersCreated: number;
  /** auth_provider values no provider claims (synapse_idp_id), with their row counts. */
  unknownProviders: Record<string, number>;
  /** Rows whose user is not on this homeserver (`@localpart:matrix.homeserver`) or not a valid user id. */
  otherServer: number;
  /** The identity is already linked to another account: left alone. */
  conflicts: Array<{ providerId: string; externalId: string; userId: string }>;
  malformedLines: number[];
}

const BATCH = 500;

export async function importExternalIds(db: Database, config: GatewayConfig, text: string, opts: { format: ExportFormat; dryRun?: boolean }): Promise<ImportReport> {
  const { rows, malformed } = parseExternalIds(text, opts.format);
  const providerOf = new Map<string, string>();
  for (const p of config.upstream.providers) if (p.synapse_idp_id) providerOf.set(p.synapse_idp_id, p.id);
  const report: ImportReport = { linked: 0, alreadyLinked: 0, usersCreated: 0, unknownProviders: {}, otherServer: 0, conflicts: [], malformedLines: malformed };
  const suffix = `:${config.matrix.homeserver}`;

  const work: Array<ExternalIdRow & { providerId: string; localpart: string }> = [];
  for (const r of rows) {
    const providerId = providerOf.get(r.authProvider);
    if (!providerId) {
      report.unknownProviders[r.authProvider] = (report.unknownProviders[r.authProvider] ?? 0) + 1;
      continue;
    }
    if (!r.userId.startsWith('@') || !r.userId.endsWith(suffix)) {
      report.otherServer++;
      continue;
    }
    work.push({ ...r, providerId, localpart: r.userId.slice(1, -suffix.length) });
  }

  for (let i = 0; i < work.length; i += BATCH) {
    const batch = work.slice(i, i + BATCH);
    const apply = async (em: EntityManager) => {
      for (const r of batch) {
        let user = await em.findOneBy(UserEntity, { localpart: r.localpart });
        if (!user) {
          const now = Date.now();
          user = { id: ulid(now), localpart: r.localpart, created_at: now, locked_at: null, deactivated_at: null, can_request_admin: false, idp_admin: false, display_name: null, email: null };
          if (!opts.dryRun) await em.insert(UserEntity, user);
          report.usersCreated++;
        }
        const link = await em.findOneBy(UpstreamLinkEntity, { provider_id: r.providerId, subject: r.externalId });
        if (link) {
          if (link.user_id === user.id) report.alreadyLinked++;
          else report.conflicts.push({ providerId: r.providerId, externalId: r.externalId, userId: r.userId });
          continue;
        }
        if (!opts.dryRun) await em.insert(UpstreamLinkEntity, { id: ulid(), provider_id: r.providerId, subject: r.externalId, user_id: user.id, created_at: Date.now() });
        report.linked++;
      }
    };
    if (opts.dryRun) await apply(db.manager);
    else await db.transaction(apply);
  }
  return report;
}

export function formatReport(r: ImportReport, dryRun: boolean): string {
  const lines = [
    `${dryRun ? 'would link' : 'linked'}: ${r.linked} identities (${r.usersCreated} account(s) ${dryRun ? 'to create' : 'created'}), already linked: ${r.alreadyLinked}`,
  ];
  for (const [p, n] of Object.entries(r.unknownProviders)) lines.push(`skipped ${n} row(s) of auth_provider "${p}": no provider has synapse_idp_id: ${p}`);
  if (r.otherServer) lines.push(`skipped ${r.otherServer} row(s) of users not on this homeserver`);
  if (r.malformedLines.length) lines.push(`skipped malformed line(s): ${r.malformedLines.slice(0, 20).join(', ')}${r.malformedLines.length > 20 ? ', …' : ''}`);
  for (const c of r.conflicts.slice(0, 20)) lines.push(`conflict: ${c.providerId} identity already linked to another account than ${c.userId}`);
  return `${lines.join('\n')}\n`;
}
