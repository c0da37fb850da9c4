import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { auditLine, openAuditStream } from '../../../src/audit/audit-stream.js';
import type { AuditRecord } from '../../../src/storage/repositories/audit-log.repository.js';

const logger = pino({ level: 'silent' });
const record = (r: Partial<AuditRecord>): AuditRecord => ({ id: 'X', action: 'a', actor: 'system', target: null, userId: null, details: {}, createdAt: 0, ...r });

describe('audit records and their JSON-lines stream', () => {
  it('a line: the event, and the request it came from lifted out of the details', () => {
    const line = JSON.parse(
      auditLine(
        record({
          id: '01ID',
          action: 'login.attempt',
          actor: 'anonymous',
          createdAt: Date.UTC(2026, 0, 2),
          details: { provider: 'corp', outcome: 'failure', ip: '203.0.113.7', user_agent: 'Mozilla/5.0', request_id: 'req-1' },
        }),
      ),
    ) as Record<string, unknown>;
    expect(line).toEqual({
      type: 'audit',
      id: '01ID',
      time: '2026-01-02T00:00:00.000Z',
      action: 'login.attempt',
      actor: 'anonymous',
      target: null,
      user_id: null,
      ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0',
      request_id: 'req-1',
      details: { provider: 'corp', outcome: 'failure' },
    });
    expect(JSON.parse(auditLine(record({ id: '02ID', details: null })))).toMatchObject({ ip: null, user_agent: null, request_id: null, details: {} });
  });

  it('stdout: one JSON object per line, marked as audit', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const stream = openAuditStream({ stream: 'stdout' }, logger, out);
    stream.write(record({ id: 'A', action: 'consent.granted', actor: 'user:U1', userId: 'U1' }));
    stream.write(record({ id: 'B', action: 'token.issued', actor: 'client:C' }));
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toMatchObject([
      { type: 'audit', id: 'A', action: 'consent.granted', user_id: 'U1' },
      { type: 'audit', id: 'B', action: 'token.issued', actor: 'client:C' },
    ]);
  });

  it('file: appended, and kept across a reopen', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.jsonl');
    for (const id of ['1', '2']) {
      const stream = openAuditStream({ stream: 'file', file }, logger);
      stream.write(record({ id }));
      await stream.close();
    }
    expect(
      readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['1', '2']);
  });

  it('none: writes nothing', () => {
    const out = new PassThrough();
    openAuditStream({ stream: 'none' }, logger, out).write(record({}));
    expect(out.read()).toBeNull();
  });
});
