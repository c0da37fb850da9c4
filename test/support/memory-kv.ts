import { KeyValueStore } from '../../src/storage/kv-store.js';

/** A KeyValueStore in a Map, for unit tests of code that keeps single-use states (no expiry). */
export class MemoryKv extends KeyValueStore {
  readonly m = new Map<string, string>();
  async get(k: string) {
    return this.m.get(k);
  }
  async set(k: string, v: string) {
    this.m.set(k, v);
  }
  async take(k: string) {
    const v = this.m.get(k);
    this.m.delete(k);
    return v;
  }
  async setIfAbsent(k: string, v: string) {
    if (this.m.has(k)) return false;
    this.m.set(k, v);
    return true;
  }
  async delete(k: string) {
    this.m.delete(k);
  }
  async deleteIfEquals(k: string, v: string) {
    if (this.m.get(k) === v) this.m.delete(k);
  }
}
