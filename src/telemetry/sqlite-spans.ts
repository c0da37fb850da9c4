import { SpanKind, context, trace } from '@opentelemetry/api';
import { tracer } from './tracer.js';

type Method = (this: { source: string }, ...args: unknown[]) => unknown;

/**
 * Spans for SQLite statements. There is no maintained OpenTelemetry instrumentation for
 * better-sqlite3, so its Statement methods are wrapped here, once, when tracing starts. Statements
 * are synchronous: the span covers exactly the statement. Only statements run inside a span get one
 * (background polling would otherwise start a trace per statement).
 */
export function traceSqliteStatements(Database: new (file: string) => { prepare(sql: string): object; close(): void }): void {
  const probe = new Database(':memory:');
  const Statement = (probe.prepare('SELECT 1') as { constructor: { prototype: Record<string, Method> } }).constructor;
  probe.close();
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = Statement.prototype[name]!;
    Statement.prototype[name] = function (this: { source: string }, ...args: unknown[]) {
      if (!trace.getSpan(context.active())) return original.apply(this, args);
      const sql = this.source;
      const span = tracer().startSpan(`sqlite ${sql.trimStart().split(/\s/, 1)[0]!.toUpperCase()}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': 'sqlite', 'db.query.text': sql },
      });
      try {
        return original.apply(this, args);
      } finally {
        span.end();
      }
    };
  }
}
