// Checks rendered manifests against the Kubernetes API schemas shipped by the npm packages
// kubernetes-models (core API) and @kubernetes-models/prometheus-operator (the ServiceMonitor and PrometheusRule CRDs):
//   - validate(): the OpenAPI schemas (types, required fields, enums, formats);
//   - strict(): unknown fields, which those schemas let through (as kubeconform does without -strict):
//     each manifest is type-checked as an object literal of the package's TypeScript interface, so a
//     misspelt or misplaced key is an excess-property error.
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../support/causeway.js';
import type { Manifest } from './chart.js';

interface ModelRef {
  module: string;
  type: string;
}

const core = (path: string, kind: string): ModelRef => ({ module: `kubernetes-models/${path}/${kind}`, type: `I${kind}` });

/** Every kind the chart renders. A new kind needs an entry here (the test fails on an unknown one). */
const MODELS: Record<string, ModelRef> = {
  'v1/ConfigMap': core('v1', 'ConfigMap'),
  'v1/Secret': core('v1', 'Secret'),
  'v1/Service': core('v1', 'Service'),
  'v1/ServiceAccount': core('v1', 'ServiceAccount'),
  'v1/Pod': core('v1', 'Pod'),
  'v1/PersistentVolumeClaim': core('v1', 'PersistentVolumeClaim'),
  'apps/v1/Deployment': core('apps/v1', 'Deployment'),
  'batch/v1/Job': core('batch/v1', 'Job'),
  'networking.k8s.io/v1/Ingress': core('networking.k8s.io/v1', 'Ingress'),
  'networking.k8s.io/v1/NetworkPolicy': core('networking.k8s.io/v1', 'NetworkPolicy'),
  'policy/v1/PodDisruptionBudget': core('policy/v1', 'PodDisruptionBudget'),
  'autoscaling/v2/HorizontalPodAutoscaler': core('autoscaling/v2', 'HorizontalPodAutoscaler'),
  'monitoring.coreos.com/v1/ServiceMonitor': {
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    type: 'IServiceMonitor',
  },
  'monitoring.coreos.com/v1/PrometheusRule': {
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
    type: 'IPrometheusRule',
  },
};

const label = (d: Manifest) => `${d.kind}/${d.metadata?.name}`;

function modelOf(d: Manifest): ModelRef {
  const ref = MODELS[`${d.apiVersion}/${d.kind}`];
  if (!ref) throw new Error(`${label(d)}: no schema known for ${d.apiVersion} ${d.kind} (add it to test/helm/kube-schemas.ts)`);
  return ref;
}

/** Schema errors of each manifest, as "Kind/name: message". */
export async function validate(docs: Manifest[]): Promise<string[]> {
  const errors: string[] = [];
  for (const d of docs) {
    const ref = modelOf(d);
    const mod = (await import(ref.module)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = mod[ref.type.slice(1)];
    if (!Model) throw new Error(`${ref.module} exports no ${ref.type.slice(1)}`);
    try {
      new Model(d).validate();
    } catch (e) {
      errors.push(`${label(d)}: ${(e as Error).message}`);
    }
  }
  return errors;
}

/** Unknown or mistyped fields, as "Kind/name: message" (one TypeScript program for all manifests). */
export function strict(docs: Manifest[]): string[] {
  const file = join(ROOT, 'test/helm/__rendered__.ts');
  const lines: string[] = [];
  const owners: string[] = [];
  docs.forEach((d, i) => {
    const ref = modelOf(d);
    lines.push(`import type { ${ref.type} as T${i} } from '${ref.module}';`);
  });
  const starts: number[] = [];
  docs.forEach((d, i) => {
    starts.push(lines.length);
    owners.push(label(d));
    lines.push(...`export const m${i}: T${i} = ${JSON.stringify(d, null, 1)};`.split('\n'));
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    noEmit: true,
    strict: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2023.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((diag) => {
    const line = diag.file && diag.start !== undefined ? diag.file.getLineAndCharacterOfPosition(diag.start).line : -1;
    let owner = '(imports)';
    starts.forEach((s, i) => {
      if (line >= s) owner = owners[i]!;
    });
    return `${owner}: ${ts.flattenDiagnosticMessageText(diag.messageText, ' ')}`;
  });
}
