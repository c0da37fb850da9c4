import type { Command } from 'commander';

/**
 * The `causeway manage …` command group: operations on the database and the homeserver without
 * the HTTP server (they work during an outage). Each subcommand lives with the module it drives
 * and registers itself on this group.
 */
export function manageCommand(program: Command): Command {
  return program.commands.find((c) => c.name() === 'manage') ?? program.command('manage').description('operate Causeway from the command line (no HTTP server needed)');
}
