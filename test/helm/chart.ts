// Harness for the chart tests: runs the real helm binary on helm/causeway and parses what it renders.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { ROOT } from '../support/causeway.js';

export const CHART = join(ROOT, 'helm/causeway');
export const PRODUCTION_VALUES = join(CHART, 'ci/production-values.yaml');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // The rest of the object, walked by the tests as plain JSON.
  [key: string]: any;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** helm from PATH, else the copy scripts/ensure-helm installs into .tools/helm/. */
export function findHelm(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'helm'))) return join(dir, 'helm');
  }
  const local = join(ROOT, '.tools/helm/helm');
  if (executable(local)) return local;
  throw new Error('helm is neither on PATH nor in .tools/helm/: run `scripts/ensure-helm` (`scripts/dev test` does) or install helm >= 3.18');
}

export interface HelmResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(findHelm(), args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, HELM_NAMESPACE: '' } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RenderOptions {
  /** Values objects, applied in order after the chart's defaults (as `-f` files). */
  values?: object[];
  /** Values files, applied before `values`. */
  files?: string[];
  release?: string;
  namespace?: string;
  /** Kubernetes version for .Capabilities (helm's default otherwise). */
  kubeVersion?: string;
}

function valuesArgs(opts: RenderOptions, dir: string): string[] {
  const args: string[] = [];
  for (const f of opts.files ?? []) args.push('-f', f);
  (opts.values ?? []).forEach((v, i) => {
    const p = join(dir, `values-${i}.yaml`);
    writeFileSync(p, stringify(v));
    args.push('-f', p);
  });
  return args;
}

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-helm-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template`: the result (exit code and output) without judging it. */
export function template(opts: RenderOptions = {}): HelmResult {
  return withTemp((dir) =>
    helm([
      'template',
      opts.release ?? 'causeway',
      CHART,
      '--namespace',
      opts.namespace ?? 'auth',
      ...(opts.kubeVersion ? ['--kube-version', opts.kubeVersion] : []),
      ...valuesArgs(opts, dir),
    ]),
  );
}

/** `helm template`, parsed; throws with helm's message when rendering fails. */
export function render(opts: RenderOptions = {}): Manifest[] {
  const r = template(opts);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}):\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length) throw new Error(`helm rendered invalid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((d): d is Manifest => d !== null);
}

/** `helm lint --strict` with the given values. */
export function lint(opts: RenderOptions = {}): HelmResult {
  return withTemp((dir) => helm(['lint', '--strict', CHART, ...valuesArgs(opts, dir)]));
}

/** The NOTES.txt helm prints after an install (client-side dry run: no cluster needed). */
export function notes(opts: RenderOptions = {}): string {
  const r = withTemp((dir) => helm(['install', opts.release ?? 'causeway', CHART, '--dry-run=client', '--namespace', opts.namespace ?? 'auth', ...valuesArgs(opts, dir)]));
  if (r.code !== 0) throw new Error(`helm install --dry-run failed (${r.code}):\n${r.stderr}`);
  const i = r.stdout.indexOf('NOTES:\n');
  if (i < 0) throw new Error('helm printed no NOTES');
  return r.stdout.slice(i + 'NOTES:\n'.length);
}

export function find(docs: Manifest[], kind: string, name?: string): Manifest {
  const hits = docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  if (hits.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${hits.length}`);
  return hits[0]!;
}

export const isHook = (d: Manifest) => d.metadata.annotations?.['helm.sh/hook'] !== undefined;
