import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { GatewayConfig } from '../../config/config.schema.js';
import { parseDuration } from '../../config/duration.js';
import type { AdminService } from '../admin.service.js';
import { record, table } from './table.js';

interface Common {
  config: string;
  json?: boolean;
}

/** What a command prints: the JSON (with --json) or a human rendering of it. */
interface Output {
  json: unknown;
  human: string;
}

const USER_COLUMNS = ['id', 'localpart', 'display_name', 'locked_at', 'deactivated_at', 'admin'];
const userOut = (u: Record<string, unknown>, extra = ''): Output => ({ json: u, human: record(u) + extra });

/**
 * `causeway manage …`: the admin operations on the same services as the admin API (AdminService),
 * without HTTP: it opens the database itself, so it works while the server or the homeserver is
 * down (homeserver changes wait in the outbox for the server to deliver). Audited as `cli:<os user>`.
 */
export function registerManage(program: Command, loadOrExit: (file: string) => GatewayConfig): void {
  const manage = program.command('manage').description('administer users, links, sessions, tokens and dead letters (no HTTP; same rules as the admin API)');
  const actor = `cli:${safeUser()}`;

  const run =
    (work: (admin: AdminService, args: string[], opts: Record<string, unknown>) => Promise<Output>) =>
    async (...argv: unknown[]) => {
      const cmd = argv[argv.length - 1] as Command;
      const opts = cmd.optsWithGlobals() as Common & Record<string, unknown>;
      const args = cmd.args;
      const config = loadOrExit(opts.config);
      const ctx = await openContext(config);
      let code = 0;
      try {
        const out = await work(ctx.admin, args, opts);
        process.stdout.write(opts.json ? `${JSON.stringify(out.json, null, 2)}\n` : out.human);
      } catch (e) {
        const { toAdminError } = await import('../http/admin-error.js');
        const err = e instanceof UsageError ? { errcode: 'M_INVALID_PARAM', message: e.message, status: 400 } : toAdminError(e);
        if (!err) throw e;
        if (opts.json) process.stdout.write(`${JSON.stringify({ errcode: err.errcode, error: err.message })}\n`);
        process.stderr.write(`error: ${err.message} (${err.errcode})\n`);
        code = err.status >= 500 ? 3 : 2;
      } finally {
        await ctx.close();
      }
      process.exitCode = code;
    };

  const cmd = (parent: Command, spec: string, description: string) =>
    parent.command(spec).description(description).requiredOption('-c, --config <file>', 'YAML config file').option('--json', 'print JSON (as the admin API answers)');

  // ---- user ----
  const user = manage.command('user').description('users');
  cmd(user, 'list', 'list and search users (filters combine)')
    .option('--localpart <prefix>', 'localpart prefix')
    .option('--email <address>', 'one of the user’s addresses')
    .option('--provider <id>', 'linked to this provider')
    .option('--subject <subject>', 'linked with this upstream subject')
    .option('--status <status>', 'active, locked or deactivated')
    .option('--admin <bool>', 'true or false: has the admin right')
    .option('--limit <n>', 'page size', '100')
    .option('--after <cursor>', 'next_after of the previous page')
    .action(
      run(async (admin, _a, o) => {
        const status = o.status as string | undefined;
        if (status && !['active', 'locked', 'deactivated'].includes(status)) throw usage('--status: expected active, locked or deactivated');
        if (o.admin !== undefined && o.admin !== 'true' && o.admin !== 'false') throw usage('--admin: expected true or false');
        const page = await admin.listUsers(
          {
            localpartPrefix: o.localpart as string | undefined,
            email: o.email as string | undefined,
            provider: o.provider as string | undefined,
            subject: o.subject as string | undefined,
            status: status as 'active' | undefined,
            admin: o.admin === undefined ? undefined : o.admin === 'true',
          },
          { after: o.after as string | undefined, limit: positive(o.limit, '--limit', 1000) },
        );
        return { json: page, human: table(page.data as never, USER_COLUMNS) + (page.next_after ? `more: --after ${page.next_after}\n` : '') };
      }),
    );
  cmd(user, 'show <user>', 'a user (id or localpart) with emails, links and live sessions').action(
    run(async (admin, [ref]) => {
      const u = await admin.showUser(ref!);
      const { links, ...rest } = u;
      return { json: u, human: record({ ...rest }) + (links.length ? `\nlinks:\n${table(links as never, ['id', 'provider', 'subject'])}` : '') };
    }),
  );
  cmd(user, 'create <localpart>', 'pre-provision a user (the homeserver learns it through the outbox)')
    .option('--display-name <name>', 'display name')
    .option('--email <address>', 'an email address (repeatable)', collect, [])
    .option('--link <provider:subject>', 'an upstream identity to link (repeatable)', collect, [])
    .option('--admin', 'may request urn:synapse:admin:*')
    .option('--skip-homeserver-check', 'create even if the homeserver has this localpart or cannot be asked')
    .action(
      run(async (admin, [localpart], o) => {
        const links = (o.link as string[]).map((l) => {
          const i = l.indexOf(':');
          if (i <= 0 || i === l.length - 1) throw usage(`--link ${l}: expected provider:subject`);
          return { providerId: l.slice(0, i), subject: l.slice(i + 1) };
        });
        const u = await admin.createUser(
          { localpart: localpart!, displayName: (o.displayName as string | undefined) ?? null, emails: o.email as string[], links, admin: !!o.admin, skipHomeserverCheck: !!o.skipHomeserverCheck },
          actor,
        );
        return userOut(u as never);
      }),
    );
  for (const [name, description] of [
    ['lock', 'lock a user (every session ends)'],
    ['unlock', 'unlock a user'],
    ['reactivate', 'reactivate a deactivated user'],
    ['promote', 'give the per-user admin right'],
    ['demote', 'take the per-user admin right away (sessions holding an admin scope end)'],
  ] as const) {
    cmd(user, `${name} <user>`, description).action(
      run(async (admin, [ref]) => {
        const u =
          name === 'lock'
            ? await admin.lock(ref!, actor)
            : name === 'unlock'
              ? await admin.unlock(ref!, actor)
              : name === 'reactivate'
                ? await admin.reactivate(ref!, actor)
                : await admin.setAdmin(ref!, name === 'promote', actor);
        return userOut(u as never);
      }),
    );
  }
  cmd(user, 'deactivate <user>', 'deactivate a user (every session ends; the homeserver erases the profile unless --no-erase)')
    .option('--no-erase', 'keep the profile at the homeserver')
    .action(run(async (admin, [ref], o) => userOut((await admin.deactivate(ref!, o.erase !== false, actor)) as never)));

  // ---- sessions ----
  const sessions = manage.command('sessions').description('sessions');
  cmd(sessions, 'end', 'end every session of a user')
    .requiredOption('--user <user>', 'user id or localpart')
    .action(
      run(async (admin, _a, o) => {
        const ended = await admin.endAllSessions(o.user as string, actor);
        return { json: { ended }, human: `ended ${ended} session(s)\n` };
      }),
    );

  // ---- links ----
  const link = manage.command('link').description('upstream links');
  const linkOut = (l: Record<string, unknown>): Output => ({ json: l, human: record(l) });
  cmd(link, 'add <user> <provider> <subject>', 'link an upstream identity to a user').action(run(async (admin, [ref, provider, subject]) => linkOut((await admin.addLink(ref!, provider!, subject!, actor)) as never)));
  cmd(link, 'remove <provider> <subject>', 'remove a link (not the user’s last one unless --force)')
    .option('--force', 'remove it even if it is the user’s last way to sign in')
    .action(run(async (admin, [provider, subject], o) => linkOut((await admin.removeLink((await admin.findLink(provider!, subject!)).id, !!o.force, actor)) as never)));
  cmd(link, 'replace <provider> <old-subject> <new-subject>', 'replace the subject of a link (the IdP re-keyed its users)').action(
    run(async (admin, [provider, oldSubject, newSubject]) => linkOut((await admin.replaceLinkSubject((await admin.findLink(provider!, oldSubject!)).id, newSubject!, actor)) as never)),
  );

  // ---- tokens ----
  const token = manage.command('token').description('personal access tokens');
  cmd(token, 'issue', 'issue a personal access token for a user (printed once)')
    .requiredOption('--user <user>', 'user id or localpart')
    .option('--scope <scope>', 'a scope token (repeatable; default: the Matrix API with a new device)', collect, [])
    .option('--expires <duration>', 'lifetime such as 3600, 12h, 30d (default: never)')
    .option('--name <name>', 'a name for the token', 'causeway manage')
    .action(
      run(async (admin, _a, o) => {
        let expiresInSeconds: number | null = null;
        if (o.expires !== undefined) {
          const s = parseDuration(o.expires);
          if (!s || s < 60) throw usage('--expires: expected a duration of at least 60 seconds, e.g. 3600, 12h, 30d');
          expiresInSeconds = s;
        }
        const t = await admin.issuePersonalToken(o.user as string, { name: o.name as string, scope: o.scope as string[], expiresInSeconds }, actor);
        const { access_token, ...rest } = t;
        return { json: t, human: `${record(rest)}\naccess token (shown once):\n${access_token}\n` };
      }),
    );

  // ---- dead letters ----
  const dead = manage.command('dead-letters').description('events whose delivery to the homeserver gave up');
  cmd(dead, 'list', 'list dead letters')
    .option('--limit <n>', 'how many', '100')
    .action(
      run(async (admin, _a, o) => {
        const page = await admin.deadLetters(positive(o.limit, '--limit', 1000));
        return { json: page, human: table(page.data as never, ['id', 'user', 'kind', 'attempts', 'dead_at', 'last_error']) };
      }),
    );
  cmd(dead, 'replay [ids...]', 'put dead letters back in the queue (all of them without ids)').action(
    run(async (admin, ids) => {
      const wanted = ids.length ? ids.map((i) => positive(i, 'id', Number.MAX_SAFE_INTEGER)) : undefined;
      const replayed = await admin.replay(wanted, actor);
      return { json: { replayed }, human: `replayed ${replayed.length} event(s)${replayed.length ? `: ${replayed.join(', ')}` : ''}\n` };
    }),
  );
}

class UsageError extends Error {}
const usage = (m: string) => new UsageError(m);

function collect(v: string, list: string[]): string[] {
  return [...list, v];
}

function positive(v: unknown, name: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw usage(`${name}: expected an integer from 1 to ${max}`);
  return n;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

async function openContext(config: GatewayConfig): Promise<{ admin: AdminService; close(): Promise<void> }> {
  const { NestFactory } = await import('@nestjs/core');
  const { openDataSource, runMigrations } = await import('../../storage/data-source.js');
  const { connectRedis } = await import('../../storage/redis.js');
  const { loadKeyStore } = await import('../../crypto/load-key-store.js');
  const { ManageModule } = await import('./manage.module.js');
  const { AdminService } = await import('../admin.service.js');
  // Logs go to stderr: stdout is the command's output (JSON for scripts).
  const { default: pino } = await import('pino');
  const logger = pino({ level: 'warn', base: { service: 'causeway-manage' } }, pino.destination(2));
  const dataSource = await openDataSource({ url: config.database.url, schema: config.database.schema, pool_size: 2 });
  if (config.database.migrate_on_start) await runMigrations(dataSource);
  const redis = config.redis ? connectRedis(config.redis.url, 'causeway-manage') : null;
  const app = await NestFactory.createApplicationContext(
    ManageModule.forRoot({
      config,
      logger,
      keys: await loadKeyStore(config),
      storage: { dataSource, databaseUrl: config.database.url, redis, redisPrefix: config.redis?.key_prefix ?? 'causeway:' },
    }),
    { logger: false },
  );
  return {
    admin: app.get(AdminService),
    async close() {
      await app.close();
      await redis?.quit().catch(() => redis.disconnect());
      await dataSource.destroy();
    },
  };
}
