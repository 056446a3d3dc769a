// CRDs a tenant is given by the platform (the root tenant's ControlPlane CRD, later the
// Organization and Project CRDs), read from `crds/*.yaml` — the one source of truth — and
// created or updated through the tenant's store, then awaited until Established, so the
// caller may serve and watch their kinds at once. Called at boot by `multiplane up`.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { isStatusError } from "../../apierrors/status.ts";
import { resourcePrefix } from "../../storage/keys.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import { isEstablished, type CRDObject } from "../crd-resources.ts";
import type { KubeObject } from "../printers.ts";
import { GenericStore } from "../store.ts";
import { crdResource } from "./crd.reconcile.ts";

/** The repository's crds/ directory. */
export const platformCRDsDir = fileURLToPath(new URL("../../../../crds/", import.meta.url));

/** Reads every CustomResourceDefinition of `dir/*.yaml` (multi-document files allowed), by file name order. */
export async function readCRDs(dir: string): Promise<CRDObject[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml")).sort();
  const out: CRDObject[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, f), "utf8"))) {
      if (doc.errors.length > 0) throw new Error(`${f}: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as KubeObject | null;
      if (obj === null) continue;
      if (obj.kind !== "CustomResourceDefinition") throw new Error(`${f}: not a CustomResourceDefinition`);
      out.push(obj);
    }
  }
  return out;
}

/**
 * Creates each CRD in the tenant, or updates its spec (labels and annotations too) when it
 * differs from the file, then waits until every one is Established (throws after `timeoutMs`).
 * Invalid CRDs are refused by the CRD strategy with its 422 Status. Inputs are not modified.
 */
export async function installCRDs(
  instance: TenantInstance,
  crds: readonly CRDObject[],
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  const store = new GenericStore(instance, crdResource);
  for (const crd of crds) {
    const name = crd.metadata?.name ?? "";
    try {
      await store.create(structuredClone(crd), "", { dryRun: false, fieldManager: "multiplane" });
      continue;
    } catch (err) {
      if (!isStatusError(err) || err.code !== 409) throw err;
    }
    await store.update(
      "",
      name,
      (current) => {
        const desired = structuredClone(crd);
        const meta = current.metadata ?? {};
        if (desired.metadata?.labels !== undefined)
          meta.labels = { ...meta.labels, ...desired.metadata.labels };
        if (desired.metadata?.annotations !== undefined)
          meta.annotations = { ...meta.annotations, ...desired.metadata.annotations };
        return { ...current, metadata: meta, spec: desired["spec"] };
      },
      { dryRun: false, fieldManager: "multiplane" },
    );
  }
  await waitEstablished(
    instance,
    crds.map((c) => c.metadata?.name ?? ""),
    opts.timeoutMs ?? 10_000,
  );
}

async function waitEstablished(
  instance: TenantInstance,
  names: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const pending = (): string[] =>
    names.filter((n) => {
      const c = instance.cache.get(instance.key(crdResource, undefined, n));
      return c === undefined || !isEstablished(c.obj);
    });
  await instance.cache.consistent();
  if (pending().length === 0) return;
  const prefix = resourcePrefix(
    { uid: instance.tenant.uid },
    { group: crdResource.group, resource: crdResource.plural },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`CRDs not Established after ${timeoutMs} ms: ${pending().join(", ")}`));
    }, timeoutMs);
    const unsubscribe = instance.cache.subscribe(prefix, () => {
      if (pending().length > 0) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
    // Established between the check above and subscribing.
    if (pending().length === 0) {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    }
  });
}
