// Graceful shutdown on SIGTERM (what Kubernetes sends before SIGKILL) and SIGINT (Ctrl-C):
// the first signal runs the shutdown (for an operator: stop the controllers, then release
// the Lease, which LeaderElector.stop() does in that order) and exits; a second signal
// exits at once, for when the shutdown hangs.

import type { Logger } from "pino";

/**
 * Called once by a command's main. Returns a function that removes the handlers (for tests
 * and for commands that end by themselves). `exit` defaults to process.exit.
 */
export function onShutdownSignal(
  shutdown: () => Promise<void>,
  log: Logger,
  opts: { signals?: readonly NodeJS.Signals[]; exit?: (code: number) => void } = {},
): () => void {
  const { signals = ["SIGTERM", "SIGINT"], exit = (code: number) => process.exit(code) } = opts;
  let shuttingDown = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      log.warn({ signal }, "second signal: exiting without finishing the shutdown");
      exit(1);
      return;
    }
    shuttingDown = true;
    log.info({ signal }, "shutting down");
    shutdown().then(
      () => exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
