// The objects the reconcilers read and write, as plain JSON typed as the apiserver types them, the
// API paths that name them, and the one "make it so" step every reconciler takes: create the
// object when it is missing, replace the fields the operator owns when they drifted, leave it
// alone otherwise (no write, so no event storm and no resourceVersion churn).

import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../../../apiserver/src/registry/printers.ts";
import type { ControlPlaneCondition } from "../../../apiserver/src/tenancy/controlplane.types.ts";
import { isStatus, type ApiClient } from "./api.client.ts";

/** An object as the API serves it (the apiserver's own shape: metadata typed, the rest unknown). */
export type KubeObj = KubeObject;

/** A metav1.Condition, as the ControlPlane status the apiserver writes holds it. */
export type Condition = ControlPlaneCondition;

/** An RBAC subject as rbac.authorization.k8s.io/v1 writes it. */
export interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** A path segment: names hold ":" (RBAC's system names), which a path carries as it is. */
const seg = (name: string): string => encodeURIComponent(name).replace(/%3A/g, ":");

/** API paths, collection and object, of the kinds the operator touches. */
export const paths = {
  organizations: (name?: string) =>
    `/apis/tenancy.multiplane.dev/v1alpha1/organizations${name === undefined ? "" : `/${seg(name)}`}`,
  projects: (namespace?: string, name?: string) =>
    namespace === undefined
      ? "/apis/tenancy.multiplane.dev/v1alpha1/projects"
      : `/apis/tenancy.multiplane.dev/v1alpha1/namespaces/${seg(namespace)}/projects${name === undefined ? "" : `/${seg(name)}`}`,
  controlPlanes: (name?: string) =>
    `/apis/core.multiplane.dev/v1alpha1/controlplanes${name === undefined ? "" : `/${seg(name)}`}`,
  namespaces: (name?: string) => `/api/v1/namespaces${name === undefined ? "" : `/${seg(name)}`}`,
  secrets: (namespace: string, name?: string) =>
    `/api/v1/namespaces/${seg(namespace)}/secrets${name === undefined ? "" : `/${seg(name)}`}`,
  roles: (namespace: string, name?: string) =>
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${seg(namespace)}/roles${name === undefined ? "" : `/${seg(name)}`}`,
  roleBindings: (namespace: string, name?: string) =>
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${seg(namespace)}/rolebindings${name === undefined ? "" : `/${seg(name)}`}`,
  clusterRoleBindings: (name?: string) =>
    `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings${name === undefined ? "" : `/${seg(name)}`}`,
} as const;

export type EnsureOutcome = "created" | "updated" | "unchanged";

/**
 * Makes the object `desired` (named by its metadata) exist in `collection` with the fields it
 * gives: `owned` lists the top-level fields the operator owns (spec, data, rules…); labels and
 * annotations it gives are merged over the existing ones. The current object is read from the
 * client's cache (`read`), so an unchanged object costs no request and a missing one one
 * create; a cache behind the API shows as an AlreadyExists, after which the API's object is
 * compared. A conflict (someone wrote in between) throws, so the reconcile is retried with the
 * newer object. Called by the reconcilers.
 */
export async function ensureObject<T extends KubeObj>(
  client: ApiClient,
  collection: string,
  desired: T,
  owned: readonly string[],
  /** The object as just read by the caller, when it did; read here otherwise. */
  read?: { readonly current: T | undefined },
): Promise<{ obj: T; outcome: EnsureOutcome }> {
  const path = `${collection}/${seg(desired.metadata?.name ?? "")}`;
  let current = read !== undefined ? read.current : await client.read<T>(path);
  if (current === undefined) {
    const created = await createUnlessExists(client, collection, desired);
    if (created !== undefined) return { obj: created, outcome: "created" };
    current = await client.get<T>(path);
    if (current === undefined) throw new Error(`${path} exists and does not: it was deleted meanwhile`);
  }
  return updateIfDrifted(client, path, current, desired, owned);
}

/** Creates `desired` in `collection`; undefined when it exists already (AlreadyExists). */
export async function createUnlessExists<T extends KubeObj>(
  client: ApiClient,
  collection: string,
  desired: T,
): Promise<T | undefined> {
  try {
    return await client.request<T>("POST", collection, desired);
  } catch (err) {
    if (isStatus(err, 409)) return undefined;
    throw err;
  }
}

/** The update step of ensureObject, for `current` as read from the API (or the cache). */
async function updateIfDrifted<T extends KubeObj>(
  client: ApiClient,
  path: string,
  current: T,
  desired: T,
  owned: readonly string[],
): Promise<{ obj: T; outcome: EnsureOutcome }> {
  const labels = { ...current.metadata?.labels, ...desired.metadata?.labels };
  const annotations = { ...current.metadata?.annotations, ...desired.metadata?.annotations };
  const drifted =
    owned.some((f) => !isDeepStrictEqual(current[f], desired[f])) ||
    !isDeepStrictEqual(labels, current.metadata?.labels ?? {}) ||
    !isDeepStrictEqual(annotations, current.metadata?.annotations ?? {});
  if (!drifted) return { obj: current, outcome: "unchanged" };
  const next: KubeObj = { ...current, metadata: { ...current.metadata, labels, annotations } };
  for (const f of owned) {
    if (desired[f] === undefined) delete next[f];
    else next[f] = desired[f];
  }
  return { obj: await client.request<T>("PUT", path, next), outcome: "updated" };
}

/**
 * The conditions with `c` set: its lastTransitionTime kept when its status did not change
 * (metav1's SetStatusCondition). Pure; returns a new array.
 */
export function setCondition(
  conditions: readonly Condition[],
  c: Omit<Condition, "lastTransitionTime">,
  now: string,
): Condition[] {
  const old = conditions.find((x) => x.type === c.type);
  const next: Condition = {
    ...c,
    lastTransitionTime: old !== undefined && old.status === c.status ? old.lastTransitionTime : now,
  };
  return old === undefined ? [...conditions, next] : conditions.map((x) => (x === old ? next : x));
}

/** The metav1 timestamp (seconds precision) of `ms`. */
export const timestamp = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
