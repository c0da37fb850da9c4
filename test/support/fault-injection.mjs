// Test-only crash points, preloaded into a Causeway process by the test harness
// (`node --import ./test/support/fault-injection.mjs dist/main.js …`, see causeway.ts). With
// CAUSEWAY_FAULT=<point>[:<n>] the process SIGKILLs itself the n-th time (default: the first) it
// reaches that point of src/events/fault-points.ts, so fault tests can prove nothing is lost across a
// crash at the worst moment. Nothing of this is in the build or the container image: a production
// process has no hook, and CAUSEWAY_FAULT means nothing to it.
const spec = process.env.CAUSEWAY_FAULT;
if (spec) {
  const [armedPoint, countText] = spec.split(':');
  let remaining = countText ? Math.max(1, Number(countText)) : 1;
  const { installFaultHook } = await import(new URL('../../dist/events/fault-points.js', import.meta.url).href);
  process.stderr.write(`${JSON.stringify({ level: 40, msg: 'fault injection is armed: this process will kill itself on purpose (tests only)', CAUSEWAY_FAULT: spec })}\n`);
  installFaultHook((point) => {
    if (point !== armedPoint || --remaining > 0) return;
    process.stderr.write(`${JSON.stringify({ level: 60, msg: 'CAUSEWAY_FAULT: killing the process', point })}\n`);
    process.kill(process.pid, 'SIGKILL');
    // Nothing after this point may run: block the thread until the signal lands.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
  });
}
