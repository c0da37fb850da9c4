import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../health/metrics.service.js';

/** What the event bus reports to Prometheus. Gauges that need a query are filled at scrape time. */
@Injectable()
export class EventsMetrics {
  readonly deliveryLatency: Histogram<'kind'>;
  readonly delivered: Counter<'kind'>;
  readonly failures: Counter<'reason'>;
  readonly deadLetters: Counter<'kind'>;
  readonly homeserverCalls: Counter<'kind' | 'outcome'>;

  constructor(private readonly metrics: MetricsService) {
    this.deliveryLatency = metrics.histogram(
      'causeway_events_delivery_latency_seconds',
      'From the outbox write to the homeserver confirming the call, per event',
      ['kind'],
      [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    );
    this.delivered = metrics.counter('causeway_events_delivered_total', 'Events delivered to the homeserver', ['kind']);
    this.failures = metrics.counter('causeway_events_delivery_failures_total', 'Failed delivery attempts by reason', ['reason']);
    // Not `causeway_events_dead_letters_total`: that family would clash with the gauge `causeway_events_dead_letters`.
    this.deadLetters = metrics.counter('causeway_events_dead_lettered_total', 'Events moved to the dead letters', ['kind']);
    this.homeserverCalls = metrics.counter('causeway_events_homeserver_calls_total', 'Homeserver calls made by the bus', ['kind', 'outcome']);
  }

  /** Registers a gauge whose value is computed on scrape (queue depth, oldest age). */
  scrapeGauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect: (g: Gauge<L>) => Promise<void>): void {
    this.metrics.scrapeGauge(name, help, labelNames, collect);
  }
}

/** Failure reason label for a delivery error. */
export function failureReason(e: unknown): string {
  const err = e as { name?: string; transient?: boolean; status?: number; errcode?: string };
  if (err?.name !== 'HomeserverError') return 'internal';
  if (err.errcode === 'TIMEOUT') return 'timeout';
  if (err.errcode === 'NETWORK') return 'network';
  if (err.status === 401 || err.status === 403) return 'auth';
  if (err.status !== undefined && err.status >= 500) return 'http_5xx';
  if (err.status !== undefined) return 'http_4xx';
  return 'other';
}
