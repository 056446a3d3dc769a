// Storage: the tenant-first key layout (keys.ts), the contract (interface.ts), its one
// implementation over a backend (store.ts), typed errors (errors.ts) and two backends:
// etcd (etcd/) for production and an embedded SQLite engine (embedded/) for `multiplane up`.

import { EtcdBackend, type EtcdBackendOptions } from "./etcd/etcd.backend.ts";
import { SqliteBackend } from "./embedded/sqlite.backend.ts";
import type { Storage } from "./interface.ts";
import { Store } from "./store.ts";

export type StorageConfig =
  ({ readonly kind: "etcd" } & EtcdBackendOptions) | { readonly kind: "embedded"; readonly path: string };

/** Opens the process's one storage client. */
export function openStorage(config: StorageConfig): Storage {
  switch (config.kind) {
    case "etcd":
      return new Store(new EtcdBackend(config));
    case "embedded":
      return new Store(SqliteBackend.open(config.path));
  }
}

export * from "./errors.ts";
export * from "./interface.ts";
export * from "./keys.ts";
export { Store } from "./store.ts";
