// Lays out, under a temp dir, the files a rendered pod would see: its ConfigMap and Secret volumes
// (projected too) at their mount paths, and its emptyDirs. Secrets come from the chart's own rendered
// Secret and from `existing` (the ones an operator creates beforehand). A volume that names a missing
// Secret, key or ConfigMap is an error, so wiring mistakes in the chart fail the tests.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Manifest } from './chart.js';

export type SecretStore = Record<string, Record<string, string>>;

interface KeyToPath {
  key: string;
  path: string;
}
interface Volume {
  name: string;
  configMap?: { name: string; items?: KeyToPath[] };
  secret?: { secretName: string; items?: KeyToPath[] };
  projected?: { sources: { secret?: { name: string; items?: KeyToPath[] }; configMap?: { name: string; items?: KeyToPath[] } }[] };
  emptyDir?: object;
  persistentVolumeClaim?: object;
}
interface Container {
  args?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodFiles {
  root: string;
  /** Mount paths, longest first. */
  mounts: string[];
  /** Where a path inside the container is on this machine. */
  host(path: string): string;
}

export function podFiles(docs: Manifest[], pod: { volumes: Volume[]; containers: Container[] }, existing: SecretStore): PodFiles {
  const configMaps: SecretStore = {};
  const secrets: SecretStore = { ...existing };
  for (const d of docs) {
    if (d.kind === 'ConfigMap') configMaps[d.metadata.name] = d.data;
    if (d.kind === 'Secret') {
      secrets[d.metadata.name] = Object.fromEntries(Object.entries(d.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    }
  }
  const root = mkdtempSync(join(tmpdir(), 'causeway-pod-'));
  const mounts: string[] = [];
  const put = (dir: string, store: SecretStore, kind: string, name: string, items: KeyToPath[] | undefined) => {
    const data = store[name];
    if (!data) throw new Error(`${kind} ${name} does not exist`);
    for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
      if (data[key] === undefined) throw new Error(`${kind} ${name} has no key ${key}`);
      const file = join(root, dir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, data[key]!);
    }
  };
  for (const c of pod.containers) {
    for (const m of c.volumeMounts ?? []) {
      const v = pod.volumes.find((x) => x.name === m.name);
      if (!v) throw new Error(`volumeMount ${m.name} has no volume`);
      mkdirSync(join(root, m.mountPath), { recursive: true });
      mounts.push(m.mountPath);
      if (v.configMap) put(m.mountPath, configMaps, 'ConfigMap', v.configMap.name, v.configMap.items);
      if (v.secret) put(m.mountPath, secrets, 'Secret', v.secret.secretName, v.secret.items);
      for (const s of v.projected?.sources ?? []) {
        if (s.secret) put(m.mountPath, secrets, 'Secret', s.secret.name, s.secret.items);
        if (s.configMap) put(m.mountPath, configMaps, 'ConfigMap', s.configMap.name, s.configMap.items);
      }
    }
  }
  mounts.sort((a, b) => b.length - a.length);
  return {
    root,
    mounts,
    host: (path) => {
      if (!mounts.some((m) => path === m || path.startsWith(`${m}/`))) throw new Error(`${path} is on no volume of the pod`);
      return join(root, path);
    },
  };
}

/**
 * The container's config file with every absolute path that lies on a volume moved to where that volume
 * is on this machine (and `http.listen`, when given, replaced), written next to the original.
 */
export function localConfig(files: PodFiles, configPath: string, listen?: string): { file: string; config: Record<string, unknown> } {
  const config = parse(readFileSync(files.host(configPath), 'utf8')) as Record<string, unknown>;
  const move = (v: unknown): unknown => {
    if (typeof v === 'string' && v.startsWith('/') && files.mounts.some((m) => v.startsWith(`${m}/`))) return files.host(v);
    if (Array.isArray(v)) return v.map(move);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, move(x)]));
    return v;
  };
  const local = move(config) as Record<string, unknown>;
  if (listen) (local.http as Record<string, unknown>).listen = listen;
  const file = join(files.root, 'gateway.local.yaml');
  writeFileSync(file, stringify(local));
  return { file, config };
}
