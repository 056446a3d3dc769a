// Polling for tests: waits until a condition holds, failing the test with the last error seen.

import assert from "node:assert/strict";

/**
 * Polls `check` every `intervalMs` until it returns true; fails the test after `timeoutMs`,
 * naming `what` and the last error `check` threw (errors count as "not yet").
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  opts: { readonly timeoutMs: number; readonly intervalMs: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err as Error;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
  assert.fail(`${what}: not true after ${opts.timeoutMs} ms${last ? ` (last error: ${last.message})` : ""}`);
}
