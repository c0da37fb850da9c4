import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from '../../../src/http/logger.js';

async function logged(write: (l: ReturnType<typeof createLogger>) => void): Promise<Record<string, unknown>> {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  write(createLogger('info', false, sink));
  await new Promise((r) => setImmediate(r));
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

describe('log redaction of fields named code', () => {
  it('keeps error codes readable (Node, SQLite, PostgreSQL)', async () => {
    for (const code of ['ECONNREFUSED', 'SQLITE_CONSTRAINT_UNIQUE', '23505']) {
      const err = Object.assign(new Error('failed'), { code });
      const line = await logged((l) => l.error({ err }, 'x'));
      expect((line.err as { code: string }).code).toBe(code);
    }
  });

  it('still redacts an authorization code wherever it is one level down', async () => {
    const secret = 'q3ZpT0c2Vn8yRkhqLXN0YXRl';
    const line = await logged((l) => l.info({ query: { code: secret }, form: { code: 'abc' } }, 'x'));
    expect(line.query).toEqual({ code: '[redacted]' });
    expect(line.form).toEqual({ code: '[redacted]' });
    expect(JSON.stringify(line)).not.toContain(secret);
  });
});
