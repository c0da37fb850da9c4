// Plain JS: Jest loads global hooks outside its ESM/TypeScript pipeline.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PEERS = { oidc: ['oidc-idp', 'OIDC_IDP_STATE'], saml: ['saml-idp', 'SAML_IDP_STATE'], cas: ['cas-server', 'CAS_SERVER_STATE'] };

/** Stops the upstream IdPs this run started (see test/support/peers.ts). */
export default async function globalTeardown() {
  for (const [kind, [dir, stateEnv]] of Object.entries(PEERS)) {
    const state = `${ROOT}.state/peers/${kind}`;
    if (!existsSync(`${state}/port`)) continue;
    try {
      execFileSync('bash', [`${ROOT}test/peers/${dir}/stop.sh`], { env: { ...process.env, [stateEnv]: state }, stdio: 'ignore' });
    } catch {
      /* already stopped */
    }
    rmSync(`${state}/port`, { force: true });
  }
}
