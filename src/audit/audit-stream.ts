import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from 'pino';
import type { AuditConfig } from '../config/sections/audit.config.js';
import type { AuditRecord } from '../storage/repositories/audit-log.repository.js';

/** Where audit records go besides the database: one JSON object per line, for a SIEM. */
export interface AuditStream {
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

const NONE: AuditStream = { write: () => undefined, close: async () => undefined };

/**
 * One record as a JSON line: `"type":"audit"` (to tell it from log lines on stdout), the event, and
 * the request it came from (client address, user agent, request id) lifted out of the details.
 */
export function auditLine(r: AuditRecord): string {
  const { ip = null, user_agent = null, request_id = null, ...details } = r.details ?? {};
  return JSON.stringify({
    type: 'audit',
    id: r.id,
    time: new Date(r.createdAt).toISOString(),
    action: r.action,
    actor: r.actor,
    target: r.target,
    user_id: r.userId,
    ip,
    user_agent,
    request_id,
    details,
  });
}

/**
 * `stdout`: lines beside the JSON logs; `file`: appended to the file (rotate it with copytruncate).
 * A write error is logged, never thrown: the database row is the record of truth.
 */
export function openAuditStream(config: AuditConfig, logger: Logger, stdout: NodeJS.WritableStream = process.stdout): AuditStream {
  if (config.stream === 'none') return NONE;
  let file: WriteStream | undefined;
  if (config.stream === 'file') {
    file = createWriteStream(config.file!, { flags: 'a', mode: 0o640 });
    file.on('error', (err) => logger.error({ err, file: config.file }, 'audit stream: cannot write'));
  }
  const out = file ?? stdout;
  return {
    write(record) {
      try {
        out.write(`${auditLine(record)}\n`);
      } catch (err) {
        logger.error({ err, action: record.action }, 'audit stream: cannot write');
      }
    },
    close: () => (file ? new Promise<void>((resolve) => file.end(resolve)) : Promise.resolve()),
  };
}
