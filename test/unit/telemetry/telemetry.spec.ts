import { afterAll, describe, expect, it } from '@jest/globals';
import BetterSqlite3 from 'better-sqlite3';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { homeserverEndpoint } from '../../../src/telemetry/outbound-calls.js';
import { redisStatement } from '../../../src/telemetry/tracing.js';
import { traceSqliteStatements } from '../../../src/telemetry/sqlite-spans.js';
import { tracer } from '../../../src/telemetry/tracer.js';

describe('homeserverEndpoint: a metric label with a handful of values', () => {
  it.each([
    ['_synapse/mas/provision_user', '/_synapse/mas/provision_user'],
    ['_synapse/mas/is_localpart_available?localpart=alice', '/_synapse/mas/is_localpart_available'],
    ['_synapse/admin/v2/users/%40alice%3Aexample.com', '/_synapse/admin/v2/users/{user_id}'],
    ['_synapse/admin/v2/users/%40alice%3Aexample.com/devices/ABCDEF', '/_synapse/admin/v2/users/{user_id}/devices/{device_id}'],
    ['_synapse/admin/v2/users/%40alice%3Aexample.com/devices', '/_synapse/admin/v2/users/{user_id}/devices'],
    ['_synapse/admin/v1/deactivate/%40bob%3Aexample.com', '/_synapse/admin/v1/deactivate/{user_id}'],
    ['_matrix/client/v3/profile/%40bob%3Aexample.com/displayname', '/_matrix/client/v3/profile/{user_id}/displayname'],
  ])('%s → %s', (path, label) => expect(homeserverEndpoint(path)).toBe(label));
});

describe('redisStatement: commands without the variable part of their key', () => {
  it.each([
    ['get', ['causeway:login:01JABCDEF'], 'get causeway:login:…'],
    ['getdel', ['causeway:upstream-state:Zm9vYmFyYmF6cXV4'], 'getdel causeway:upstream-state:…'],
    ['evalsha', ['abc123', 1, 'x'], 'evalsha …'],
    ['ping', [], 'ping'],
  ])('%s %j', (cmd, args, expected) => expect(redisStatement(cmd, args)).toBe(expected));
});

describe('traceSqliteStatements', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(provider);
  traceSqliteStatements(BetterSqlite3);
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  it('a span per statement run inside a span, with its text; none outside one', () => {
    const db = new BetterSqlite3(':memory:');
    db.prepare('CREATE TABLE t (v TEXT)').run();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    tracer().startActiveSpan('parent', (parent) => {
      db.prepare('INSERT INTO t (v) VALUES (?)').run('secret-value');
      expect(db.prepare('SELECT v FROM t').all()).toEqual([{ v: 'secret-value' }]);
      parent.end();
    });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['sqlite INSERT', 'sqlite SELECT', 'parent']);
    const parent = spans[2]!;
    expect(spans[0]!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(spans[0]!.attributes).toEqual({ 'db.system.name': 'sqlite', 'db.query.text': 'INSERT INTO t (v) VALUES (?)' });
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('secret-value');
    db.close();
  });
});
