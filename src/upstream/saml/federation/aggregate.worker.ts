import { parentPort, workerData } from 'node:worker_threads';
import { MetadataError } from '../idp-metadata.js';
import { decodeChunks, readAggregate, type ReadAggregateOptions } from './aggregate-reader.js';

/**
 * Reads one aggregate off the main thread (started by parseAggregateInWorker): sign-ins go on
 * while a 50 MB aggregate is checked, and the heap limit and the timeout bound what it may cost.
 */
const { bytes, opts } = workerData as { bytes: Uint8Array; opts: ReadAggregateOptions };
const started = process.cpuUsage();
try {
  const data = readAggregate(decodeChunks(bytes), opts);
  const cpu = process.cpuUsage(started);
  parentPort!.postMessage({ ok: true, data, cpuMs: (cpu.user + cpu.system) / 1000, heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20 });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: e instanceof MetadataError ? e.message : `cannot read the aggregate: ${(e as Error).message}` });
}
