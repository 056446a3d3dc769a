// Polling for tests: waits until a condition holds, failing the test with the last error seen.

import assert from "node:assert/strict";

export interface EventuallyOptions {
  /** How long to wait before failing (default 15 s). */
  readonly timeoutMs?: number;
  /** How long between two checks (default 50 ms). */
  readonly intervalMs?: number;
  /** More to say when it fails (e.g. the servers' last log lines). */
  readonly context?: () => string;
}

/**
 * Polls `check` every `intervalMs` until it returns true; fails the test after `timeoutMs`,
 * naming `what` and the last error `check` threw (errors count as "not yet").
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  opts: EventuallyOptions = {},
): Promise<void> {
  const { timeoutMs = 15_000, intervalMs = 50 } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err as Error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const context = opts.context === undefined ? "" : `\n${opts.context()}`;
  assert.fail(
    `${what}: not true after ${timeoutMs} ms${last ? ` (last error: ${last.message})` : ""}${context}`,
  );
}
