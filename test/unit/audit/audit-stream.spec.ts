import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { openAuditStream } from '../../../src/audit/audit-stream.js';
import { toRecord } from '../../../src/audit/audit-log.service.js';
import { runInRequest } from '../../../src/http/request-context.js';

const logger = pino({ level: 'silent' });

describe('audit records and their JSON-lines stream', () => {
  it('a record takes the address, user agent and request id of the request being handled', () => {
    const r = runInRequest({ requestId: 'req-1', ip: '203.0.113.7', userAgent: 'Mozilla/5.0' }, () =>
      toRecord({ action: 'login.attempt', actor: 'anonymous', details: { provider: 'corp', outcome: 'failure' } }, '01ID', Date.UTC(2026, 0, 2)),
    );
    expect(r).toEqual({
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
    expect(toRecord({ action: 'x', actor: 'system' }, '02ID', 0)).toMatchObject({ ip: null, user_agent: null, request_id: null });
  });

  it('stdout: one JSON object per line, marked as audit', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const stream = openAuditStream({ stream: 'stdout' }, logger, out);
    stream.write(toRecord({ action: 'consent.granted', actor: 'user:U1', userId: 'U1' }, 'A', 0));
    stream.write(toRecord({ action: 'token.issued', actor: 'client:C' }, 'B', 0));
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toMatchObject([
      { type: 'audit', id: 'A', action: 'consent.granted', user_id: 'U1' },
      { type: 'audit', id: 'B', action: 'token.issued', actor: 'client:C' },
    ]);
  });

  it('file: appended, and kept across a reopen', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'audit-')), 'audit.jsonl');
    for (const id of ['1', '2']) {
      const stream = openAuditStream({ stream: 'file', file }, logger);
      stream.write(toRecord({ action: 'a', actor: 'system' }, id, 0));
      await stream.close();
    }
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['1', '2']);
  });

  it('none: writes nothing', () => {
    const out = new PassThrough();
    openAuditStream({ stream: 'none' }, logger, out).write(toRecord({ action: 'a', actor: 'system' }, 'X', 0));
    expect(out.read()).toBeNull();
  });
});
