// Retention benchmark: the churn test of test/integration/policy/retention-churn.spec.ts at a
// bigger scale (CI runs 4 users; this runs 30 users × 4 sign-ins a day over 37 simulated days, about
// 4,400 sign-ins per database, with refreshes and sign-outs), on SQLite and PostgreSQL. It prints
// the row count of every table before and after the month, the sweeps' statement count and longest
// statement, and sign-in latencies while the sweeper runs. Asserts only what the test asserts.
//
//   npm run bench:retention
//   BENCH_USERS=60 BENCH_PER_DAY=5 npm run bench:retention
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const env = {
  ...process.env,
  CAUSEWAY_CHURN_USERS: process.env.BENCH_USERS ?? '30',
  CAUSEWAY_CHURN_PER_DAY: process.env.BENCH_PER_DAY ?? '4',
};
const jest = spawn(process.execPath, ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '--runInBand', '--testTimeout=3600000', 'test/integration/policy/retention-churn.spec.ts'], {
  cwd: ROOT,
  env,
  stdio: 'inherit',
});
jest.on('exit', (code) => process.exit(code ?? 1));
