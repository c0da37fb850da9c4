import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from 'pino';
import type { AuditConfig } from '../config/sections/audit.config.js';
import type { AuditRecord } from './audit-event.js';

/** Where audit records go besides the database: one JSON object per line, for a SIEM. */
export interface AuditStream {
  write(record: AuditRecord): void;
  close(): Promise<void>;
}

const NONE: AuditStream = { write: () => undefined, close: async () => undefined };

/**
 * `stdout`: lines beside the JSON logs (each with `"type":"audit"` to tell them apart);
 * `file`: appended to the file (rotate it with copytruncate). A write error is logged, never thrown:
 * the database row is the record of truth.
 */
export function openAuditStream(config: AuditConfig, logger: Logger, stdout: NodeJS.WritableStream = process.stdout): AuditStream {
  if (config.stream === 'none') return NONE;
  let out: NodeJS.WritableStream;
  let file: WriteStream | undefined;
  if (config.stream === 'file') {
    file = createWriteStream(config.file!, { flags: 'a', mode: 0o640 });
    file.on('error', (err) => logger.error({ err, file: config.file }, 'audit stream: cannot write'));
    out = file;
  } else {
    out = stdout;
  }
  return {
    write(record) {
      out.write(`${JSON.stringify({ type: 'audit', ...record })}\n`);
    },
    close: () => (file ? new Promise<void>((resolve) => file.end(resolve)) : Promise.resolve()),
  };
}
