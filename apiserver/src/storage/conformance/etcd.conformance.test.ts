// The storage conformance suite against a real etcd in a container (test/support/etcd-container.ts).
// One container serves the whole file; each case uses its own random tenants, so cases share it.
//
// Restart: the container keeps its data and its host port (a fixed binding), so the endpoint does
// not change and Storage instances opened before a restart are meant to keep working: the
// EtcdBackend reconnects to the same address. Nothing is reopened (clientsSurviveRestart).

import { after, before, describe } from "node:test";
import { startEtcdContainer, type EtcdContainer } from "../../../../test/support/etcd-container.ts";
import { openStorage } from "../index.ts";
import type { Storage } from "../interface.ts";
import { storageConformance } from "./suite.ts";

void describe("etcd backend", () => {
  let etcd: EtcdContainer | undefined;
  let startError: Error | undefined;
  const opened: Storage[] = [];
  // A failed start fails every case that needs etcd, with the reason (a failing before hook
  // would only mark them cancelled, and the summary would say "# fail 0").
  const ready = (): Promise<EtcdContainer> =>
    etcd !== undefined
      ? Promise.resolve(etcd)
      : Promise.reject(startError ?? new Error("the etcd container was not started"));

  before(async () => {
    try {
      etcd = await startEtcdContainer();
    } catch (err) {
      startError = err instanceof Error ? err : new Error(String(err));
    }
  });
  after(async () => {
    await etcd?.stop();
  });

  storageConformance("etcd", {
    open: async () => {
      const { endpoint } = await ready();
      const s = openStorage({ kind: "etcd", endpoints: [endpoint] });
      opened.push(s);
      return s;
    },
    restart: async () => (await ready()).restart(),
    clientsSurviveRestart: true,
    maxClients: 8,
    // The container runs etcd with --experimental-watch-progress-notify-interval=1s.
    progressIntervalMs: 1000,
    cleanup: async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    },
  });
});
