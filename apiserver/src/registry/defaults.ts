// Defaulting of built-in kinds, as kube-apiserver applies it when decoding a request
// (SetDefaults_*): only what users observe on stored objects. Modifies `obj`.

import type { KubeObject } from "./printers.ts";
import { kindKey, type ResourceDef } from "./resources.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

function defaultSubjects(obj: KubeObject): void {
  for (const s of objects(obj["subjects"])) {
    if (s["kind"] === "ServiceAccount" && s["apiGroup"] === "") delete s["apiGroup"];
    if (s["apiGroup"] === undefined) {
      if (s["kind"] === "User" || s["kind"] === "Group") s["apiGroup"] = "rbac.authorization.k8s.io";
      // A ServiceAccount subject's apiGroup stays absent (omitempty upstream).
    }
  }
}

function defaultWebhooks(obj: KubeObject, mutating: boolean): void {
  for (const w of objects(obj["webhooks"])) {
    w["failurePolicy"] ??= "Fail";
    w["matchPolicy"] ??= "Equivalent";
    w["namespaceSelector"] ??= {};
    w["objectSelector"] ??= {};
    w["timeoutSeconds"] ??= 10;
    if (mutating) w["reinvocationPolicy"] ??= "Never";
    for (const r of objects(w["rules"])) r["scope"] ??= "*";
    const cc = w["clientConfig"];
    if (isObj(cc) && isObj(cc["service"])) cc["service"]["port"] ??= 443;
  }
}

/** SetDefaults_MatchResources (and SetDefaults_Rule on its rules), for policies and bindings. */
function defaultMatchResources(mr: unknown): void {
  if (!isObj(mr)) return;
  mr["matchPolicy"] ??= "Equivalent";
  mr["namespaceSelector"] ??= {};
  mr["objectSelector"] ??= {};
  for (const r of [...objects(mr["resourceRules"]), ...objects(mr["excludeResourceRules"])])
    r["scope"] ??= "*";
}

const defaulters: Record<string, (obj: KubeObject) => void> = {
  "/Secret": (o) => {
    o["type"] ??= "Opaque";
    // stringData is write-only: merged into data (base64), never stored.
    const stringData = o["stringData"];
    if (isObj(stringData)) {
      const data = isObj(o["data"]) ? o["data"] : (o["data"] = {});
      for (const [k, v] of Object.entries(stringData)) {
        if (typeof v === "string") data[k] = Buffer.from(v, "utf8").toString("base64");
      }
    }
    delete o["stringData"];
  },
  "/Namespace": (o) => {
    const spec = isObj(o["spec"]) ? o["spec"] : (o["spec"] = {});
    spec["finalizers"] ??= ["kubernetes"];
    const status = isObj(o["status"]) ? o["status"] : (o["status"] = {});
    status["phase"] ??= "Active";
    const name = o.metadata?.name;
    if (name) o.metadata!.labels = { ...(o.metadata!.labels ?? {}), "kubernetes.io/metadata.name": name };
  },
  "/Service": (o) => {
    const spec = isObj(o["spec"]) ? o["spec"] : (o["spec"] = {});
    spec["type"] ??= "ClusterIP";
    spec["sessionAffinity"] ??= "None";
    for (const p of objects(spec["ports"])) {
      p["protocol"] ??= "TCP";
      p["targetPort"] ??= p["port"];
    }
    const status = isObj(o["status"]) ? o["status"] : (o["status"] = {});
    status["loadBalancer"] ??= {};
    if (spec["type"] !== "ExternalName") {
      spec["internalTrafficPolicy"] ??= "Cluster";
      spec["ipFamilyPolicy"] ??= "SingleStack";
      spec["ipFamilies"] ??= ["IPv4"];
    }
  },
  "rbac.authorization.k8s.io/RoleBinding": defaultSubjects,
  "rbac.authorization.k8s.io/ClusterRoleBinding": defaultSubjects,
  "admissionregistration.k8s.io/MutatingWebhookConfiguration": (o) => defaultWebhooks(o, true),
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration": (o) => defaultWebhooks(o, false),
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy": (o) => {
    const spec = isObj(o["spec"]) ? o["spec"] : undefined;
    if (spec) spec["failurePolicy"] ??= "Fail";
    defaultMatchResources(spec?.["matchConstraints"]);
  },
  "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding": (o) => {
    const spec = isObj(o["spec"]) ? o["spec"] : undefined;
    defaultMatchResources(spec?.["matchResources"]);
    // SetDefaults_ParamRef.
    const paramRef = spec?.["paramRef"];
    if (isObj(paramRef)) paramRef["parameterNotFoundAction"] ??= "Deny";
  },
};

export function applyDefaults(def: ResourceDef, obj: KubeObject): void {
  if (def.crd !== undefined) return;
  defaulters[kindKey(def)]?.(obj);
}
