// Conversions between etcd3's protobuf shapes and the Backend's. etcd3 loads the
// protocol with `longs: String`, so every int64 (revisions, counts, watch ids) is a
// decimal string, and keys and values are Buffers. Revisions stay far below 2^53.

import { Buffer } from "node:buffer";
import type { IKeyValue } from "etcd3";
import type { KeyValue } from "../interface.ts";

/** Buffer of a string key (etcd keys are bytes; ours are UTF-8 paths). */
export const keyBytes = (key: string): Buffer => Buffer.from(key, "utf8");

/** A Buffer view of `value`, without copying (etcd3's request types want Buffers). */
export const valueBytes = (value: Uint8Array): Buffer =>
  Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);

/** An int64 field: etcd3 decodes it as a decimal string. */
export const int64 = (field: string): number => Number(field);

export const toKeyValue = (kv: IKeyValue): KeyValue => ({
  key: kv.key.toString("utf8"),
  value: kv.value,
  createRevision: Number(kv.create_revision),
  modRevision: Number(kv.mod_revision),
});

/**
 * A message field that the protocol may leave unset. proto-loader decodes an unset
 * message field as null, though etcd3's types declare it always present.
 */
export const optional = <T extends object>(field: T | null | undefined): T | undefined => field ?? undefined;
