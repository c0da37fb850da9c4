#!/usr/bin/env node
// Writes the gateway config's JSON schema (generated from the zod schema of the whole file, composed in
// src/upstream/gateway-config.schema.ts from the sections of src/config and the provider kinds, as built in dist/)
// into helm/causeway/values.schema.json under definitions.gatewayConfig, so that `helm install` rejects
// a bad `config:` block (unknown keys, wrong types, bad enums) before anything is deployed.
//   node scripts/helm-schema.js           update the file (npm run helm:schema builds first)
//   node scripts/helm-schema.js --check   exit 1 if the file is out of date (the chart tests run this)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { gatewayConfigSchema as configSchema } from '../dist/upstream/gateway-config.schema.js';

const FILE = fileURLToPath(new URL('../helm/causeway/values.schema.json', import.meta.url));

export function gatewayConfigSchema() {
  // The input side: what an operator writes (durations as "5m", secrets as KEY / KEY_file / KEY_env).
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-7', unrepresentable: 'any' });
  delete schema.$schema;
  // The chart owns `replicas` (from replicaCount / autoscaling.maxReplicas): writing it is an error.
  delete schema.properties.replicas;
  schema.description = 'Generated from src/config by scripts/helm-schema.js: do not edit by hand.';
  return schema;
}

const current = readFileSync(FILE, 'utf8');
const values = JSON.parse(current);
values.definitions.gatewayConfig = gatewayConfigSchema();
const wanted = `${JSON.stringify(values, null, 2)}\n`;

if (process.argv.includes('--check')) {
  if (wanted !== current) {
    process.stderr.write('helm/causeway/values.schema.json is out of date with the config schema in src/config: run `npm run helm:schema` and commit the result\n');
    process.exit(1);
  }
  process.stdout.write('helm/causeway/values.schema.json matches src/config\n');
} else if (wanted !== current) {
  writeFileSync(FILE, wanted);
  process.stdout.write('updated helm/causeway/values.schema.json\n');
}
