// Server-side printing: the Table columns kube-apiserver's printers give each kind
// (kubectl shows them as they come). Cells are computed here, ages included.

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
};

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Printer {
  columns: TableColumn[];
  cells(obj: KubeObject, now: number): unknown[];
}

const col = (name: string, type: string, description: string, priority = 0, format = ""): TableColumn => ({
  name,
  type,
  format,
  description,
  priority,
});

const nameColumn = col(
  "Name",
  "string",
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
  0,
  "name",
);
const ageColumn = col(
  "Age",
  "string",
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
);

/** kube's duration.HumanDuration: "5s", "3m4s", "2d3h", "4y"… */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** An age cell from an RFC3339 timestamp ("<unknown>" when absent, as kube prints). */
export function age(timestamp: unknown, now: number): string {
  if (typeof timestamp !== "string") return "<unknown>";
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? "<unknown>" : humanDuration(now - t);
}

const meta = (o: KubeObject): ObjectMeta => o.metadata ?? {};
const count = (v: unknown): number => (v && typeof v === "object" ? Object.keys(v).length : 0);
const get = (o: unknown, ...path: string[]): unknown => {
  let cur = o;
  for (const p of path)
    cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
};
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A scalar as text; anything else (absent, object) as `fallback`. */
const str = (v: unknown, fallback = ""): string =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : fallback;

/** The table of a kind without a printer: Name and Created At, as kube's default. */
export const defaultPrinter: Printer = {
  columns: [
    nameColumn,
    col(
      "Created At",
      "date",
      "CreationTimestamp is a timestamp representing the server time when this object was created.",
    ),
  ],
  cells: (o) => [meta(o).name ?? "", meta(o).creationTimestamp ?? ""],
};

function bindingSubjects(o: KubeObject, kind: string): string {
  return list(o["subjects"])
    .filter((s) => get(s, "kind") === kind)
    .map((s) => {
      const ns = get(s, "namespace");
      return kind === "ServiceAccount" && typeof ns === "string"
        ? `${ns}/${String(get(s, "name"))}`
        : String(get(s, "name"));
    })
    .join(", ");
}

const bindingPrinter: Printer = {
  columns: [
    nameColumn,
    col("Role", "string", "Role"),
    ageColumn,
    col("Users", "string", "Users in the roleBinding", 1),
    col("Groups", "string", "Groups in the roleBinding", 1),
    col("ServiceAccounts", "string", "ServiceAccounts in the roleBinding", 1),
  ],
  cells: (o, now) => [
    meta(o).name,
    `${String(get(o, "roleRef", "kind"))}/${String(get(o, "roleRef", "name"))}`,
    age(meta(o).creationTimestamp, now),
    bindingSubjects(o, "User"),
    bindingSubjects(o, "Group"),
    bindingSubjects(o, "ServiceAccount"),
  ],
};

const webhookPrinter: Printer = {
  columns: [nameColumn, col("Webhooks", "integer", "Webhooks indicates the number of webhooks."), ageColumn],
  cells: (o, now) => [meta(o).name, list(o["webhooks"]).length, age(meta(o).creationTimestamp, now)],
};

function servicePorts(o: KubeObject): string {
  const ports = list(get(o, "spec", "ports")).map((p) => {
    const node = str(get(p, "nodePort"));
    return `${str(get(p, "port"))}${node ? `:${node}` : ""}/${str(get(p, "protocol"), "TCP")}`;
  });
  return ports.length === 0 ? "<none>" : ports.join(",");
}

function eventObject(ref: unknown): string {
  return `${str(get(ref, "kind")).toLowerCase()}/${str(get(ref, "name"))}`;
}

/** Printers by `<group>/<Kind>` ("" group for core). */
export const printers: Record<string, Printer> = {
  "/Namespace": {
    columns: [nameColumn, col("Status", "string", "The status of the namespace"), ageColumn],
    cells: (o, now) => [meta(o).name, get(o, "status", "phase") ?? "", age(meta(o).creationTimestamp, now)],
  },
  "/ConfigMap": {
    columns: [nameColumn, col("Data", "string", "Data contains the configuration data."), ageColumn],
    cells: (o, now) => [
      meta(o).name,
      count(o["data"]) + count(o["binaryData"]),
      age(meta(o).creationTimestamp, now),
    ],
  },
  "/Secret": {
    columns: [
      nameColumn,
      col("Type", "string", "The type of the secret"),
      col("Data", "string", "The number of data in the secret"),
      ageColumn,
    ],
    cells: (o, now) => [
      meta(o).name,
      o["type"] ?? "Opaque",
      count(o["data"]),
      age(meta(o).creationTimestamp, now),
    ],
  },
  "/ServiceAccount": {
    columns: [
      nameColumn,
      col("Secrets", "string", "Secrets is a list of the secrets in the same namespace."),
      ageColumn,
    ],
    cells: (o, now) => [meta(o).name, list(o["secrets"]).length, age(meta(o).creationTimestamp, now)],
  },
  "/Service": {
    columns: [
      nameColumn,
      col("Type", "string", "The type of the service"),
      col("Cluster-IP", "string", "The cluster IP of the service"),
      col("External-IP", "string", "The external IP of the service"),
      col("Port(s)", "string", "The ports of the service"),
      ageColumn,
      col("Selector", "string", "The selector of the service", 1),
    ],
    cells: (o, now) => {
      const selector = get(o, "spec", "selector");
      return [
        meta(o).name,
        get(o, "spec", "type") ?? "ClusterIP",
        get(o, "spec", "clusterIP") ?? "<none>",
        list(get(o, "spec", "externalIPs")).join(",") || "<none>",
        servicePorts(o),
        age(meta(o).creationTimestamp, now),
        selector && typeof selector === "object"
          ? Object.entries(selector)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(",")
          : "<none>",
      ];
    },
  },
  "/Event": {
    columns: [
      col("Last Seen", "string", "Time when this Event was last seen"),
      col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future."),
      col("Reason", "string", "Reason why the action was taken. It is human-readable."),
      col(
        "Object",
        "string",
        "The object that this event is about. Mapped from `involvedObject` by the server.",
      ),
      col("Message", "string", "A human-readable description of the status of this operation."),
    ],
    cells: (o, now) => [
      age(o["lastTimestamp"] ?? o["eventTime"] ?? meta(o).creationTimestamp, now),
      o["type"] ?? "",
      o["reason"] ?? "",
      eventObject(o["involvedObject"]),
      o["message"] ?? "",
    ],
  },
  "events.k8s.io/Event": {
    columns: [
      col("Last Seen", "string", "Time when this Event was last seen"),
      col("Type", "string", "Type of this event"),
      col("Reason", "string", "Reason why the action was taken."),
      col("Object", "string", "The object that this event is about."),
      col("Message", "string", "A human-readable description of the status of this operation."),
    ],
    cells: (o, now) => [
      age(get(o, "deprecatedLastTimestamp") ?? o["eventTime"] ?? meta(o).creationTimestamp, now),
      o["type"] ?? "",
      o["reason"] ?? "",
      eventObject(o["regarding"]),
      o["note"] ?? "",
    ],
  },
  "/ResourceQuota": {
    columns: [nameColumn, ageColumn, col("Request", "string", "Request"), col("Limit", "string", "Limit")],
    cells: (o, now) => {
      const hard = (get(o, "status", "hard") ?? {}) as Record<string, unknown>;
      const used = (get(o, "status", "used") ?? {}) as Record<string, unknown>;
      const fmt = (keys: string[]) =>
        keys.map((k) => `${k}: ${str(used[k], "0")}/${str(hard[k])}`).join(", ");
      const keys = Object.keys(hard).sort();
      return [
        meta(o).name,
        age(meta(o).creationTimestamp, now),
        fmt(keys.filter((k) => !k.startsWith("limits."))),
        fmt(keys.filter((k) => k.startsWith("limits."))),
      ];
    },
  },
  "coordination.k8s.io/Lease": {
    columns: [nameColumn, col("Holder", "string", "The holder of the lease"), ageColumn],
    cells: (o, now) => [
      meta(o).name,
      get(o, "spec", "holderIdentity") ?? "",
      age(meta(o).creationTimestamp, now),
    ],
  },
  "rbac.authorization.k8s.io/RoleBinding": bindingPrinter,
  "rbac.authorization.k8s.io/ClusterRoleBinding": bindingPrinter,
  "rbac.authorization.k8s.io/Role": {
    columns: [nameColumn, col("Created At", "date", "The creation time of the role")],
    cells: (o) => [meta(o).name, meta(o).creationTimestamp],
  },
  "rbac.authorization.k8s.io/ClusterRole": {
    columns: [nameColumn, col("Created At", "date", "The creation time of the cluster role")],
    cells: (o) => [meta(o).name, meta(o).creationTimestamp],
  },
  "admissionregistration.k8s.io/MutatingWebhookConfiguration": webhookPrinter,
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration": webhookPrinter,
};
