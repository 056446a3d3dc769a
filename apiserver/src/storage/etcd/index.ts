// The etcd backend: EtcdBackend (etcd.backend.ts) moves bytes with revisions over etcd's
// KV API; its watches share one multiplexed Watch stream (etcd.watch.ts); etcd.codec.ts
// and etcd.errors.ts translate the etcd3 client's shapes and errors.

export { EtcdBackend, type EtcdBackendOptions } from "./etcd.backend.ts";
