// npm run bench:storage — Multiplane's storage layer against the raw etcd3 client,
// on the same etcd in the same run, 64 operations in flight; the embedded engine beside.
//
// Workload: 256-byte JSON values; `ops` creates of distinct keys, then `ops` gets of
// those keys, then `ops` compare-and-swap updates, then lists of a 100-key prefix.
// Each phase runs raw and layered alternately, `rounds` times, on fresh keys, and the
// best round of each is kept (the machine has 2 cores; the best is the least disturbed).

import { Etcd3 } from "etcd3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EtcdBackend } from "../apiserver/src/storage/etcd/etcd.backend.ts";
import { SqliteBackend } from "../apiserver/src/storage/embedded/sqlite.backend.ts";
import type { Storage } from "../apiserver/src/storage/interface.ts";
import { objectKey, resourcePrefix, type StorageKey } from "../apiserver/src/storage/keys.ts";
import { Store } from "../apiserver/src/storage/store.ts";
import { startEtcdProcess } from "../test/support/etcd-process.ts";

const inFlight = 64;
const ops = Number(process.env["BENCH_OPS"] ?? 4000);
const listOps = Number(process.env["BENCH_LIST_OPS"] ?? 400);
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3);
const value = Buffer.from(JSON.stringify({ kind: "ConfigMap", data: { v: "x".repeat(200) } }).slice(0, 256));
const updated = Buffer.from(value.toString().replace("ConfigMap", "Configmap"));
const configmaps = { group: "", resource: "configmaps" };

/** Runs `n` calls of `op` with `inFlight` at a time; returns ops/s. */
async function rate(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async (): Promise<void> => {
    while (next < n) await op(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return n / seconds;
}

interface Target {
  create(key: string): Promise<number>;
  get(key: string): Promise<unknown>;
  update(key: string, modRevision: number): Promise<unknown>;
  list(prefix: string): Promise<unknown>;
}

function rawTarget(client: Etcd3): Target {
  return {
    async create(key) {
      const res = await client.if(key, "Create", "==", 0).then(client.put(key).value(value)).commit();
      if (!res.succeeded) throw new Error(`raw create of ${key} failed`);
      return Number(res.header.revision);
    },
    get: (key) => client.get(key).buffer(),
    async update(key, modRevision) {
      const res = await client
        .if(key, "Mod", "==", modRevision)
        .then(client.put(key).value(value))
        .else(client.get(key))
        .commit();
      if (!res.succeeded) throw new Error(`raw update of ${key} failed`);
    },
    list: (prefix) => client.getAll().prefix(prefix).buffers(),
  };
}

function storeTarget(store: Storage): Target {
  return {
    async create(key) {
      return (await store.create(key as StorageKey, value)).modRevision;
    },
    get: (key) => store.get(key as StorageKey),
    // As the registry updates: from the object it already holds (the watch cache's copy).
    update: (key, modRevision) =>
      store.guaranteedUpdate(key as StorageKey, () => updated, {
        cached: { key, value, createRevision: modRevision, modRevision },
      }),
    list: (prefix) => store.list(prefix as ReturnType<typeof resourcePrefix>),
  };
}

type Phase = "create" | "get" | "update" | "list";
type Figures = Record<Phase, number>;

/** One round of every phase on keys of its own (`round` keeps rounds apart). */
async function runRound(target: Target, tenant: string, round: number): Promise<Figures> {
  const keys = Array.from({ length: ops }, (_, i) =>
    objectKey({ uid: tenant }, configmaps, `r${round}`, `cm-${String(i).padStart(6, "0")}`),
  );
  const revisions: number[] = [];
  const create = await rate(ops, async (i) => (revisions[i] = await target.create(keys[i]!)));
  const get = await rate(ops, (i) => target.get(keys[i]!));
  const update = await rate(ops, (i) => target.update(keys[i]!, revisions[i]!));
  const listPrefix = resourcePrefix({ uid: tenant }, configmaps, `list${round}`);
  await Promise.all(
    Array.from({ length: 100 }, (_, i) => target.create(`${listPrefix}item-${String(i).padStart(3, "0")}`)),
  );
  const list = await rate(listOps, () => target.list(listPrefix));
  return { create, get, update, list };
}

const best = (a: Figures | undefined, b: Figures): Figures =>
  a === undefined
    ? b
    : {
        create: Math.max(a.create, b.create),
        get: Math.max(a.get, b.get),
        update: Math.max(a.update, b.update),
        list: Math.max(a.list, b.list),
      };

const fmt = (n: number): string => n.toFixed(0).padStart(8);

async function main(): Promise<void> {
  const etcd = await startEtcdProcess();
  const raw = new Etcd3({ hosts: etcd.endpoint });
  const layered = new Store(new EtcdBackend({ endpoints: [etcd.endpoint] }));
  const dir = await mkdtemp(join(tmpdir(), "multiplane-bench-"));
  const embedded = new Store(SqliteBackend.open(join(dir, "state.db")));
  try {
    let rawBest: Figures | undefined;
    let layerBest: Figures | undefined;
    let embeddedBest: Figures | undefined;
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first so neither always gets the warmer server.
      if (round % 2 === 0) {
        rawBest = best(rawBest, await runRound(rawTarget(raw), "raw", round));
        layerBest = best(layerBest, await runRound(storeTarget(layered), "layer", round));
      } else {
        layerBest = best(layerBest, await runRound(storeTarget(layered), "layer", round));
        rawBest = best(rawBest, await runRound(rawTarget(raw), "raw", round));
      }
      embeddedBest = best(embeddedBest, await runRound(storeTarget(embedded), "embedded", round));
    }
    if (!rawBest || !layerBest || !embeddedBest) throw new Error("no rounds ran");
    console.log(
      `storage benchmark: ${ops} ops per phase (lists: ${listOps} of 100 keys), ${inFlight} in flight, ` +
        `256-byte values, best of ${rounds} rounds; etcd ${etcd.endpoint}\n`,
    );
    console.log("phase      raw etcd3   multiplane(etcd)   ratio   embedded(sqlite)");
    for (const phase of ["create", "get", "update", "list"] as const) {
      const ratio = layerBest[phase] / rawBest[phase];
      console.log(
        `${phase.padEnd(8)} ${fmt(rawBest[phase])}/s   ${fmt(layerBest[phase])}/s        ${ratio.toFixed(2)}x   ${fmt(embeddedBest[phase])}/s`,
      );
    }
  } finally {
    await layered.close();
    raw.close();
    await embedded.close();
    await rm(dir, { recursive: true, force: true });
    await etcd.destroy();
  }
}

await main();
