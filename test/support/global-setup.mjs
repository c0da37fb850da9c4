// Plain JS: Jest loads global hooks outside its ESM/TypeScript pipeline.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The suite runs the built server (dist/): `npm test` builds first. Fail early and clearly if it is missing. */
export default async function globalSetup() {
  const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
  if (!existsSync(main)) throw new Error('dist/main.js is missing: run `npm run build` (npm test does it for you)');
}
