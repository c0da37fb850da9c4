import type { ImportCounts } from './import-counts.js';
import type { ImportMode, ProgressSink } from './import-runner.js';

const n = (v: number) => v.toLocaleString('en-US');

/** The summary table a run ends with (the same for a run and a dry run). */
export function formatSummary(c: ImportCounts, mode: ImportMode, elapsedMs: number): string {
  const rows: [string, number | string, number | string, number | string, number | string, number | string][] = [
    ['table', 'read', 'imported', 'updated', 'unchanged', 'left out'],
    ['users', c.users.read, c.users.imported, c.users.updated, c.users.unchanged, c.users.guests + c.users.appservice + c.users.otherServer],
    ['external ids → links', c.links.read, c.links.imported, '-', c.links.existing, c.links.conflicts + sum(c.links.unmapped) + c.links.tooLong],
    ['emails', '-', c.emails.imported, '-', '-', c.emails.otherMedia],
    ['devices → sessions', c.devices.read, c.devices.imported, c.devices.ended ? `${n(c.devices.ended)} ended` : '-', c.devices.kept, c.devices.hidden + c.devices.known + c.devices.deactivatedUser + c.devices.tooLong],
    [
      'access tokens',
      c.tokens.read,
      c.tokens.imported,
      c.tokens.revoked ? `${n(c.tokens.revoked)} revoked` : '-',
      c.tokens.kept,
      c.tokens.puppet + c.tokens.deviceless + c.tokens.orphan + c.tokens.expired + c.tokens.unrecognised + c.tokens.deactivatedUser + c.tokens.knownDevice,
    ],
    ['  with refresh token', '-', c.tokens.refreshable, '-', '-', c.tokens.refreshExpired + c.tokens.refreshSuperseded],
  ];
  const cells = rows.map((r) => r.map((v) => (typeof v === 'number' ? n(v) : v)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const table = cells.map((r) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ')).join('\n');

  const secs = elapsedMs / 1000;
  const title =
    mode === 'dry-run'
      ? `dry run: everything was written in a transaction that was rolled back (${secs.toFixed(1)} s)`
      : mode === 'check'
        ? `check: nothing was written; a run would do this (${secs.toFixed(1)} s)`
        : `import done in ${secs.toFixed(1)} s (${n(Math.round(c.users.read / Math.max(secs, 0.001)))} users/s)`;
  const out = [title, '', table, ''];

  const leftOut: string[] = [];
  if (c.users.guests) leftOut.push(`guest users: ${n(c.users.guests)} (Causeway has no guests)`);
  if (c.users.appservice) leftOut.push(`appservice users: ${n(c.users.appservice)} (their appservice keeps managing them)`);
  if (c.users.otherServer) leftOut.push(`users not on matrix.homeserver: ${n(c.users.otherServer)}`);
  for (const [p, count] of Object.entries(c.links.unmapped)) leftOut.push(`external ids of auth_provider "${p}": ${n(count)} (no provider has synapse_idp_id: ${p})`);
  if (c.links.conflicts) leftOut.push(`external ids already linked to another account: ${n(c.links.conflicts)} (${c.links.conflictSample.join('; ')})`);
  if (c.emails.otherMedia) leftOut.push(`threepids that are not emails: ${n(c.emails.otherMedia)}`);
  if (c.links.tooLong) leftOut.push(`external ids longer than 512 characters: ${n(c.links.tooLong)}`);
  const devices = describe({
    hidden: c.devices.hidden,
    'of deactivated users': c.devices.deactivatedUser,
    'on device ids Causeway already uses': c.devices.known,
    'with ids longer than 255 characters': c.devices.tooLong,
  });
  if (devices) leftOut.push(`devices: ${devices}`);
  const tokens = describe({
    'puppet (admin "login as")': c.tokens.puppet,
    'without a device': c.tokens.deviceless,
    'device gone or hidden': c.tokens.orphan,
    expired: c.tokens.expired,
    'unrecognised format': c.tokens.unrecognised,
    'of deactivated users': c.tokens.deactivatedUser,
    "on Causeway's own devices": c.tokens.knownDevice,
  });
  if (tokens) leftOut.push(`access tokens: ${tokens}`);
  const refresh = describe({ 'expired (the access token is imported alone)': c.tokens.refreshExpired, 'superseded by a newer pair': c.tokens.refreshSuperseded });
  if (refresh) leftOut.push(`refresh tokens: ${refresh}`);
  if (leftOut.length) out.push('left out:', ...leftOut.map((l) => `  ${l}`), '');

  const reported: string[] = [];
  const flags = describe({
    deactivated: c.users.deactivated,
    locked: c.users.locked,
    'Synapse admins (may request urn:synapse:admin:*)': c.users.admins,
    'shadow-banned (Synapse keeps enforcing it)': c.users.shadowBanned,
    'suspended (Synapse keeps enforcing it)': c.users.suspended,
  });
  if (flags) reported.push(`accounts: ${flags}`);
  const types = Object.entries(c.users.userTypes);
  if (types.length) reported.push(`user types: ${types.map(([t, count]) => `${t} ${n(count)}`).join(', ')}`);
  if (c.users.passwordOnly) {
    reported.push(
      `password-only users: ${n(c.users.passwordOnly)} (${c.users.passwordOnlySample.join(', ')}${c.users.passwordOnly > c.users.passwordOnlySample.length ? ', …' : ''}): ` +
        'their sessions keep working; a new sign-in needs an upstream identity linked to the account (a provider with on_conflict: link, or an admin)',
    );
  }
  if (reported.length) out.push('reported:', ...reported.map((l) => `  ${l}`), '');
  return `${out.join('\n')}\n`;
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function describe(parts: Record<string, number>): string {
  return Object.entries(parts)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
}

/**
 * Progress on stderr: on a terminal one line rewritten in place (rows per table, rate, ETA); otherwise
 * a plain line at most every `everyMs` (and at the end), fit for logs.
 */
export function progressPrinter(stream: NodeJS.WriteStream, everyMs = 5000): ProgressSink {
  const tty = !!stream.isTTY;
  let total = 0;
  let started = 0;
  let last = 0;
  const line = (c: ImportCounts) => {
    const secs = (Date.now() - started) / 1000;
    const rate = c.users.read / Math.max(secs, 0.001);
    const eta = rate > 0 ? Math.max(0, (total - c.users.read) / rate) : 0;
    const pct = total ? Math.min(100, Math.floor((c.users.read / total) * 100)) : 100;
    return `users ${n(c.users.read)}/${n(total)} (${pct}%), devices ${n(c.devices.read)}, access tokens ${n(c.tokens.read)}, external ids ${n(c.links.read)}; ${n(Math.round(rate))} users/s, ETA ${Math.ceil(eta)} s`;
  };
  return {
    start(t) {
      total = t;
      started = Date.now();
    },
    page(c) {
      const now = Date.now();
      if (tty) {
        if (now - last < 200) return;
        last = now;
        stream.write(`\r\x1b[K${line(c)}`);
      } else if (now - last >= everyMs) {
        last = now;
        stream.write(`progress: ${line(c)}\n`);
      }
    },
    finish(c) {
      stream.write(tty ? `\r\x1b[K${line(c)}\n` : `progress: ${line(c)}\n`);
    },
  };
}
