import { stopAllPeers } from './peers.js';

/** Stops the upstream IdPs the run started (test/support/peers.ts). */
export default async function globalTeardown() {
  await stopAllPeers();
}
