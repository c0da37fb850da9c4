// The Dockerfile cannot be built here (no container engine), so it is read: its stages, what each
// copies (every path must exist in the repository and survive .dockerignore), what the build needs, and
// that the runtime stage agrees with what the chart expects of the image (user, port, paths, command).
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/causeway.js';
import { find, render } from './chart.js';

interface Instruction {
  cmd: string;
  args: string;
  line: number;
}
interface Stage {
  name: string;
  image: string;
  steps: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, continuation lines joined, ARGs before FROM substituted. */
function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!buf && (line === '' || line.startsWith('#'))) return;
    if (buf && line.startsWith('#')) return; // a comment inside a continued instruction
    if (!buf) start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const m = /^(\S+)\s*(.*)$/.exec(buf)!;
      instructions.push({ cmd: m[1]!.toUpperCase(), args: m[2]!, line: start });
      buf = '';
    }
  });
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.cmd === 'ARG' && stages.length === 0) {
      const [k, v] = ins.args.split('=');
      globalArgs[k!] = v ?? '';
    } else if (ins.cmd === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      const image = m[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => globalArgs[a ?? b] ?? '');
      stages.push({ name: m[2] ?? String(stages.length), image, steps: [] });
    } else {
      if (!stages.length) throw new Error(`line ${ins.line}: ${ins.cmd} before FROM`);
      stages[stages.length - 1]!.steps.push(ins);
    }
  }
  return stages;
}

/** A .dockerignore matcher: a path is excluded when it or one of its parent directories matches. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = glob
        .split('/')
        .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (path) => {
    const parts = path.replace(/\/+$/, '').split('/');
    let excluded = false;
    for (let n = 1; n <= parts.length; n++) {
      const p = parts.slice(0, n).join('/');
      for (const r of rules) if (r.re.test(p)) excluded = !r.negate;
    }
    return excluded;
  };
}

const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(DOCKERFILE);
const ignored = dockerignore(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
const stage = (name: string) => stages.find((s) => s.name === name)!;
const steps = (s: Stage, cmd: string) => s.steps.filter((i) => i.cmd === cmd);
const runtime = stages[stages.length - 1]!;
const jsonArray = (ins: Instruction | undefined) => {
  expect(ins?.args).toMatch(/^\[.*\]$/); // exec form: signals reach node directly (graceful shutdown)
  return JSON.parse(ins!.args) as string[];
};
/** COPY arguments: flags, sources, destination. */
const copyParts = (ins: Instruction) => {
  const words = ins.args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  return { from: flags.find((f) => f.startsWith('--from='))?.slice('--from='.length), sources: rest.slice(0, -1), dest: rest[rest.length - 1]! };
};

const trial = render();
const pod = find(trial, 'Deployment').spec.template.spec;
const values = { port: pod.containers[0].ports[0].containerPort, user: pod.securityContext.runAsUser, group: pod.securityContext.runAsGroup };

describe('Dockerfile', () => {
  it('has build, prod-deps and runtime stages, all on Node 24 slim', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'prod-deps', 'runtime']);
    for (const s of stages) expect(s.image).toMatch(/^node:24(\.\d+){0,2}-(bookworm-|trixie-)?slim(@sha256:[a-f0-9]{64})?$/);
  });

  it('build: npm ci then npm run build, with every file the build script reads copied in', () => {
    const build = stage('build');
    const runs = steps(build, 'RUN').map((r) => r.args);
    expect(runs.findIndex((r) => /\bnpm ci\b/.test(r))).toBeLessThan(runs.findIndex((r) => /\bnpm run build\b/.test(r)));
    const copied = steps(build, 'COPY').flatMap((c) => copyParts(c).sources.map((s) => s.replace(/\/$/, '')));
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    // What `npm run build` reads: the tsconfigs, the scripts it runs, and the sources.
    const buildScript = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build!;
    const needed = [...buildScript.matchAll(/(?:-p\s+|node\s+)(\S+)/g)].map((m) => m[1]!);
    expect(needed.length).toBeGreaterThanOrEqual(2);
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { extends?: string; include: string[] };
    needed.push(...(tsconfig.extends ? [tsconfig.extends.replace(/^\.\//, '')] : []), ...tsconfig.include);
    for (const file of needed) expect(copied).toContain(file);
  });

  it('prod-deps: npm ci --omit=dev; runtime: its node_modules and the build’s dist/, plus package.json (ESM)', () => {
    expect(steps(stage('prod-deps'), 'RUN').some((r) => /\bnpm ci\b.*--omit=dev/.test(r.args))).toBe(true);
    const copies = steps(runtime, 'COPY').map(copyParts);
    expect(copies).toContainEqual({ from: 'prod-deps', sources: ['/app/node_modules'], dest: './node_modules' });
    expect(copies).toContainEqual({ from: 'build', sources: ['/app/dist'], dest: './dist' });
    expect(copies.some((c) => !c.from && c.sources.includes('package.json'))).toBe(true);
    expect(steps(runtime, 'RUN').some((r) => /npm (ci|install)/.test(r.args))).toBe(false); // no dev tooling in the image
  });

  it('every COPY source exists in the repository and is not excluded by .dockerignore', () => {
    const names = stages.map((s) => s.name);
    for (const s of stages) {
      for (const ins of steps(s, 'COPY')) {
        const { from, sources } = copyParts(ins);
        if (from) {
          expect(names.slice(0, names.indexOf(s.name))).toContain(from);
          continue;
        }
        for (const src of sources) {
          const path = src.replace(/\/$/, '');
          expect([path, existsSync(join(ROOT, path))]).toEqual([path, true]);
          expect([path, ignored(path)]).toEqual([path, false]);
          if (statSync(join(ROOT, path)).isDirectory()) expect([path, src.endsWith('/')]).toEqual([path, true]);
        }
      }
    }
  });

  it('.dockerignore keeps local installs, builds, data and VCS out of the context', () => {
    for (const p of ['.git', 'node_modules', 'node_modules/x/index.js', 'dist', '.tools/helm/helm', 'data/causeway.db', 'test/helm/chart.ts', 'src/secrets/a.pem']) {
      expect([p, ignored(p)]).toEqual([p, true]);
    }
    for (const p of ['src/main.ts', 'package.json', 'scripts/copy-assets.js', 'bin/causeway.js']) expect([p, ignored(p)]).toEqual([p, false]);
  });

  it('runtime: a non-root numeric user, the same the chart runs as', () => {
    const users = steps(runtime, 'USER');
    expect(users).toHaveLength(1);
    expect(users[0]!.args).toBe(`${values.user}:${values.group}`);
    expect(values.user).toBeGreaterThan(0);
    // The user owns the data dir (the only writable place besides /tmp).
    const setup = steps(runtime, 'RUN').map((r) => r.args).join(' && ');
    expect(setup).toContain(`--uid ${values.user}`);
    expect(setup).toContain(`--gid ${values.group}`);
    expect(setup).toMatch(/chown causeway:causeway \/app\/data/);
  });

  it('runtime: node dist/main.js serve --config <the path where the chart mounts the config>', () => {
    const workdir = steps(runtime, 'WORKDIR').at(-1)!.args;
    expect(workdir).toBe('/app');
    const entrypoint = jsonArray(steps(runtime, 'ENTRYPOINT').at(-1));
    expect(entrypoint).toEqual(['node', 'dist/main.js']);
    expect(existsSync(join(ROOT, 'src/main.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'dist/main.js'))).toBe(true); // what the build stage produces
    const cmd = jsonArray(steps(runtime, 'CMD').at(-1));
    // The chart passes the same arguments explicitly, and mounts the ConfigMap's gateway.yaml there.
    expect(pod.containers[0].args).toEqual(cmd);
    const configMount = pod.containers[0].volumeMounts.find((m: { name: string }) => m.name === 'config');
    const configVolume = pod.volumes.find((v: { name: string }) => v.name === 'config');
    expect(`${configMount.mountPath}/${configVolume.configMap.items[0].path}`).toBe(cmd[2]);
    // The data volume sits where the default SQLite URL (sqlite://data/causeway.db) lands from WORKDIR.
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: `${workdir}/data` });
  });

  it('runtime: exposes the port the chart declares', () => {
    expect(steps(runtime, 'EXPOSE').map((e) => Number(e.args))).toEqual([values.port]);
  });

  it('every stage is built FROM one base image pinned by digest, with a note on updating it', () => {
    for (const st of stages) expect(st.image).toMatch(/^node:24\.\d+\.\d+-(bookworm|trixie)-slim@sha256:[a-f0-9]{64}$/);
    expect(new Set(stages.map((st) => st.image)).size).toBe(1);
    expect(DOCKERFILE).toMatch(/To update it:.*\n.*imagetools inspect/);
  });

  it('runtime: listens on 0.0.0.0 at the port it exposes, unless the config says otherwise', () => {
    // The server reads CAUSEWAY_HTTP_LISTEN as http.listen's default (test/integration/config/container-defaults.spec.ts).
    expect(steps(runtime, 'ENV').map((e) => e.args)).toContain(`CAUSEWAY_HTTP_LISTEN=0.0.0.0:${values.port}`);
  });

  it('runtime: no package manager (npm, npx, corepack removed, and nothing runs them later)', () => {
    const runs = steps(runtime, 'RUN').map((r) => r.args);
    const removal = runs.findIndex((r) => /rm -rf .*\/usr\/local\/lib\/node_modules\/npm\b/.test(r));
    expect(removal).toBeGreaterThanOrEqual(0);
    for (const tool of ['/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/lib/node_modules/corepack', '/usr/local/bin/corepack']) expect(runs[removal]).toContain(tool);
    expect(runs.slice(removal + 1).some((r) => /\b(npm|npx|corepack|yarn)\b/.test(r))).toBe(false);
    expect(jsonArray(steps(runtime, 'ENTRYPOINT').at(-1))[0]).toBe('node');
  });

  it('runtime: a HEALTHCHECK on /health/live with what the image carries (node, bin/healthcheck.js)', () => {
    const checks = steps(runtime, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const m = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(checks[0]!.args);
    expect(m).not.toBeNull();
    expect(m![1]).toMatch(/--interval=\d+s/);
    expect(m![1]).toMatch(/--timeout=\d+s/);
    expect(JSON.parse(m![2]!)).toEqual(['node', 'bin/healthcheck.js']);
    expect(steps(runtime, 'COPY').map(copyParts)).toContainEqual({ from: undefined, sources: ['bin/'], dest: './bin/' });
    expect(readFileSync(join(ROOT, 'bin/healthcheck.js'), 'utf8')).toContain('/health/live');
  });

  it('CI builds the image when the machine has a container builder, and says so when it skips', () => {
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/docker build|buildah bud|podman build/);
    expect(ci).toMatch(/container image build skipped/);
  });

  it('the parser reads what it should (these checks can fail)', () => {
    const probe = parseDockerfile('ARG B=node:24-slim\nFROM ${B} AS one\n# c\nRUN a \\\n  # inner\n  && b\nUSER 1:1\n');
    expect(probe).toEqual([{ name: 'one', image: 'node:24-slim', steps: [{ cmd: 'RUN', args: 'a && b', line: 4 }, { cmd: 'USER', args: '1:1', line: 7 }] }]);
    const m = dockerignore('node_modules\n**/*.pem\n!keep.pem\n');
    expect([m('node_modules/a'), m('x/y.pem'), m('keep.pem'), m('src/a.ts')]).toEqual([true, true, false, false]);
  });
});
