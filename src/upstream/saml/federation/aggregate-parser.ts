import { Worker } from 'node:worker_threads';
import { MetadataError } from '../idp-metadata.js';
import type { AggregateData, ReadAggregateOptions } from './aggregate-reader.js';

export interface ParseLimits {
  timeoutSeconds: number;
  memoryMb: number;
}

export interface ParsedAggregate {
  data: AggregateData;
  /** CPU time the worker spent, in milliseconds. */
  cpuMs: number;
  wallMs: number;
  /** The worker's heap in use when it finished, in MiB. */
  heapUsedMb: number;
}

export type AggregateParser = (bytes: Uint8Array, opts: ReadAggregateOptions, limits: ParseLimits) => Promise<ParsedAggregate>;

/**
 * Reads an aggregate in a worker thread with a heap limit and a timeout: a hostile or broken
 * document (too big, too deep, too slow) costs at most that, and the event loop that serves
 * sign-ins is never blocked by it. Rejects with MetadataError.
 */
export const parseAggregateInWorker: AggregateParser = (bytes, opts, limits) =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const worker = new Worker(new URL('./aggregate.worker.js', import.meta.url), {
      workerData: { bytes, opts },
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb, maxYoungGenerationSizeMb: 32 },
    });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void worker.terminate();
    };
    const timer = setTimeout(() => settle(() => reject(new MetadataError(`reading the aggregate took longer than ${limits.timeoutSeconds} s (parse_timeout)`))), limits.timeoutSeconds * 1000);
    worker.on('message', (m: { ok: true; data: AggregateData; cpuMs: number; heapUsedMb: number } | { ok: false; error: string }) =>
      settle(() => (m.ok ? resolve({ data: m.data, cpuMs: m.cpuMs, heapUsedMb: m.heapUsedMb, wallMs: Date.now() - started }) : reject(new MetadataError(m.error)))),
    );
    worker.on('error', (e: Error & { code?: string }) =>
      settle(() => reject(new MetadataError(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `reading the aggregate needed more than ${limits.memoryMb} MB (parse_memory_mb)` : `cannot read the aggregate: ${e.message}`))),
    );
    worker.on('exit', (code) => settle(() => reject(new MetadataError(`the aggregate reader stopped (exit code ${code})`))));
  });
