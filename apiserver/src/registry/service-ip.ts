// ClusterIP allocation for Services, per tenant, from kube's default service range
// 10.96.0.0/12. Every tenant has its own range (nothing routes these addresses; they
// exist so that Services look as they do on a cluster). Upstream keeps an allocation
// bitmap in storage; here the tenant's cache of Services is the record of what is taken.

import type { FieldError } from "../apierrors/status.ts";
import type { KubeObject } from "./printers.ts";

const base = (10 << 24) | (96 << 16); // 10.96.0.0
const size = 1 << 20; // /12

const toIP = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

type Spec = { type?: string; clusterIP?: string; clusterIPs?: string[] };

/** The IPs Services already hold. */
export function usedClusterIPs(services: Iterable<KubeObject>): Set<string> {
  const used = new Set<string>();
  for (const s of services) {
    const ip = (s["spec"] as Spec | undefined)?.clusterIP;
    if (ip && ip !== "None") used.add(ip);
  }
  return used;
}

/**
 * Gives a new Service its cluster IP (modifies `obj`): a free random one when none was asked
 * for, none for ExternalName or headless (`None`) Services. Returns field errors when the
 * requested IP is taken.
 */
export function allocateClusterIP(obj: KubeObject, used: ReadonlySet<string>): FieldError[] {
  const spec = (obj["spec"] ?? (obj["spec"] = {})) as Spec;
  if (spec.type === "ExternalName") return [];
  const requested = spec.clusterIP ?? spec.clusterIPs?.[0];
  if (requested === "None") {
    spec.clusterIP = "None";
    spec.clusterIPs = ["None"];
    return [];
  }
  if (requested !== undefined && requested !== "") {
    if (used.has(requested)) {
      return [
        {
          type: "FieldValueInvalid",
          field: "spec.clusterIPs",
          detail: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: provided IP is already allocated`,
        },
      ];
    }
    spec.clusterIP = requested;
    spec.clusterIPs = [requested];
    return [];
  }
  // Random probing, skipping the network address and .1 (kube's `kubernetes` Service).
  for (let i = 0; i < 64; i++) {
    const ip = toIP(base + 2 + Math.floor(Math.random() * (size - 3)));
    if (!used.has(ip)) {
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      return [];
    }
  }
  return [{ type: "InternalError", field: "spec.clusterIPs", detail: "Internal error: range is full" }];
}

/** On update a Service keeps its cluster IPs when the new object omits them (kube's strategy). */
export function keepClusterIP(obj: KubeObject, old: KubeObject): void {
  const spec = obj["spec"] as Spec | undefined;
  const oldSpec = old["spec"] as Spec | undefined;
  if (spec === undefined || oldSpec === undefined || spec.type === "ExternalName") return;
  if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
  if (!spec.clusterIPs && oldSpec.clusterIPs) spec.clusterIPs = oldSpec.clusterIPs;
}
