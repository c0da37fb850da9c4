/**
 * A parser for the Prometheus text exposition format (version 0.0.4), strict enough for tests:
 * every sample must belong to a family declared by `# TYPE`, and a family may be declared once.
 */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface MetricFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: MetricSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Families by name; histogram and summary samples (`_bucket`, `_sum`, `_count`) are filed under their family. */
export function parseMetrics(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const help = new Map<string, string>();
  const bySample = new Map<string, MetricFamily>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'HELP') help.set(name, rest);
      else {
        if (families.has(name)) throw new Error(`metric ${name} declared twice`);
        const family: MetricFamily = { name, type: rest as MetricFamily['type'], help: help.get(name) ?? '', samples: [] };
        families.set(name, family);
        const suffixes = rest === 'histogram' ? ['_bucket', '_sum', '_count'] : rest === 'summary' ? ['', '_sum', '_count'] : [''];
        for (const s of suffixes) bySample.set(`${name}${s}`, family);
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const [, name, rawLabels, value] = m as unknown as [string, string, string | undefined, string];
    const family = bySample.get(name);
    if (!family) throw new Error(`sample ${name} has no # TYPE`);
    const labels: Record<string, string> = {};
    for (const l of (rawLabels ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    family.samples.push({ name, labels, value: Number(value) });
  }
  return families;
}

/** The first sample called `name` (a family's own name, or `x_count`, `x_bucket`…) whose labels include `labels`. */
export function findSample(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): MetricSample | undefined {
  for (const f of families.values()) {
    const hit = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    if (hit) return hit;
  }
  return undefined;
}
