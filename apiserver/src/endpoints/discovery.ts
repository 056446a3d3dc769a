// Discovery: /api, /apis, /api/v1, /apis/<group>/<version>, and aggregated discovery
// (apidiscovery.k8s.io/v2), computed from a tenant's resource index.

import type { ResourceIndex } from "../tenancy/instance.ts";
import type { ResourceDef } from "../registry/resources.ts";

export const serverVersion = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-multiplane.0.1.0",
  gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean",
  buildDate: "2026-11-23T00:00:00Z",
  goVersion: "go1.23.0",
  compiler: "gc",
  platform: "linux/amd64",
};

/** Group preference order: core first, then kube's built-in groups, then custom ones alphabetically. */
const builtinGroupOrder = [
  "",
  "events.k8s.io",
  "authentication.k8s.io",
  "authorization.k8s.io",
  "rbac.authorization.k8s.io",
  "coordination.k8s.io",
  "admissionregistration.k8s.io",
  "apiextensions.k8s.io",
];

interface GroupInfo {
  name: string;
  versions: string[];
}

/** Groups with their versions, in discovery order (preferred version first). */
export function groupsOf(index: ResourceIndex): GroupInfo[] {
  const groups = new Map<string, string[]>();
  for (const d of index.all) {
    const versions = groups.get(d.group) ?? [];
    if (!versions.includes(d.version)) versions.push(d.version);
    groups.set(d.group, versions);
  }
  const rank = (g: string) => {
    const i = builtinGroupOrder.indexOf(g);
    return i < 0 ? builtinGroupOrder.length : i;
  };
  return [...groups.entries()]
    .map(([name, versions]) => ({ name, versions: versions.sort(compareVersions) }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** Kubernetes version priority: GA > beta > alpha, higher numbers first, others alphabetical last. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { kind: 3, major: 0, minor: 0 };
    return {
      kind: m[2] === undefined ? 0 : m[2] === "beta" ? 1 : 2,
      major: Number(m[1]),
      minor: Number(m[3] ?? 0),
    };
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa.kind !== pb.kind) return pa.kind - pb.kind;
  if (pa.kind === 3) return a.localeCompare(b);
  return pb.major - pa.major || pb.minor - pa.minor;
}

export function apiVersions(): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "" }],
  };
}

export function apiGroupList(index: ResourceIndex): object {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groupsOf(index)
      .filter((g) => g.name !== "")
      .map((g) => apiGroup(g)),
  };
}

function apiGroup(g: GroupInfo): object {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

export function apiGroupFor(index: ResourceIndex, group: string): object | undefined {
  const g = groupsOf(index).find((x) => x.name === group);
  return g === undefined ? undefined : { kind: "APIGroup", apiVersion: "v1", ...apiGroup(g) };
}

function subresourceVerbs(sub: string): string[] {
  switch (sub) {
    case "token":
      return ["create"];
    case "finalize":
      return ["update"];
    default:
      return ["get", "patch", "update"];
  }
}

export function apiResourceList(index: ResourceIndex, group: string, version: string): object {
  const defs = index.all.filter((d) => d.group === group && d.version === version);
  const resources: object[] = [];
  for (const d of defs) {
    resources.push({
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
      ...(d.shortNames.length > 0 ? { shortNames: d.shortNames } : {}),
      ...(d.categories.length > 0 ? { categories: d.categories } : {}),
      storageVersionHash: storageVersionHash(d),
    });
    for (const sub of d.subresources) {
      resources.push({
        name: `${d.plural}/${sub}`,
        singularName: "",
        namespaced: d.namespaced,
        ...(sub === "token" ? { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" } : {}),
        kind: sub === "token" ? "TokenRequest" : sub === "scale" ? "Scale" : d.kind,
        verbs: subresourceVerbs(sub),
      });
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group === "" ? version : `${group}/${version}`,
    resources,
  };
}

function storageVersionHash(d: ResourceDef): string {
  // kube: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>"); any stable value works for clients.
  return Buffer.from(`${d.group}/${d.version}/${d.kind}`).toString("base64").slice(0, 11);
}

/** Aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList) for /api or /apis. */
export function aggregatedDiscovery(index: ResourceIndex, legacy: boolean): object {
  const items = groupsOf(index)
    .filter((g) => (legacy ? g.name === "" : g.name !== ""))
    .map((g) => ({
      metadata: { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: index.all
          .filter((d) => d.group === g.name && d.version === v)
          .map((d) => ({
            resource: d.plural,
            responseKind: { group: d.group, version: d.version, kind: d.kind },
            scope: d.namespaced ? "Namespaced" : "Cluster",
            singularResource: d.singular,
            verbs: d.verbs,
            ...(d.shortNames.length > 0 ? { shortNames: d.shortNames } : {}),
            ...(d.categories.length > 0 ? { categories: d.categories } : {}),
            ...(d.subresources.length > 0
              ? {
                  subresources: d.subresources.map((sub) => ({
                    subresource: sub,
                    responseKind:
                      sub === "token"
                        ? { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" }
                        : sub === "scale"
                          ? { group: "autoscaling", version: "v1", kind: "Scale" }
                          : { group: d.group, version: d.version, kind: d.kind },
                    verbs: subresourceVerbs(sub),
                  })),
                }
              : {}),
          })),
        freshness: "Current",
      })),
    }));
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}
