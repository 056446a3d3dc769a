// Test fixture: real tenant instances (with their controllers) on the embedded storage
// in a temp dir, as `multiplane up` opens it, plus helpers to address their objects.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../registry/printers.ts";
import { GenericStore } from "../registry/store.ts";
import { openStorage } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import { TenantInstance, type Tenant } from "../tenancy/instance.ts";

export interface Fixture {
  readonly storage: Storage;
  /** Starts a tenant instance (bootstrap, cache, controllers) on the shared storage. */
  start(tenant: Tenant): Promise<TenantInstance>;
  close(): Promise<void>;
}

export async function openFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "multiplane-controllers-"));
  const storage = openStorage({ kind: "embedded", path: join(dir, "state.db") });
  const started: TenantInstance[] = [];
  return {
    storage,
    start: async (tenant) => {
      const instance = new TenantInstance(tenant, storage, () => {});
      await instance.start();
      started.push(instance);
      return instance;
    },
    close: async () => {
      await Promise.allSettled(started.map((i) => i.stop()));
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The generic store of a served resource (`configmaps`, `namespaces`, `widgets.example.com`…). */
export function storeOf(instance: TenantInstance, resource: string, version = "v1"): GenericStore {
  const dot = resource.indexOf(".");
  const plural = dot < 0 ? resource : resource.slice(0, dot);
  const group = dot < 0 ? "" : resource.slice(dot + 1);
  const def = instance.resources.lookup(group, version, plural);
  if (def === undefined) throw new Error(`${resource}/${version} is not served`);
  return new GenericStore(instance, def);
}

/** The object, or undefined once it is gone (read through the consistent cache). */
export async function find(
  instance: TenantInstance,
  resource: string,
  namespace: string,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await storeOf(instance, resource).get(namespace, name);
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const ownerRef = (
  owner: KubeObject,
  extra: { blockOwnerDeletion?: boolean; controller?: boolean } = {},
): {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  blockOwnerDeletion?: boolean;
  controller?: boolean;
} => ({
  apiVersion: owner.apiVersion ?? "v1",
  kind: owner.kind ?? "",
  name: owner.metadata?.name ?? "",
  uid: owner.metadata?.uid ?? "",
  ...extra,
});
