// Validation of the core/v1 kinds Multiplane serves, as pkg/apis/core/validation (v1.32):
// ConfigMap, Secret, Namespace, ServiceAccount, Event (core/v1 API), Service (ports and type),
// ResourceQuota and LimitRange. Objects are wire JSON; base64 fields are decoded the way Go's
// JSON decoder does, Secret.stringData is merged into data as kube's conversion does, and sizes
// are counted in decoded bytes. Every function is pure.

import type { FieldError } from "../../apierrors/status.ts";
import * as field from "./field.ts";
import { GoRepr, Path, goPointer, goQuote, goStringSlice, goStruct } from "./field.ts";
import { fromCoreV1, validateInternalEventCreate, validateInternalEventUpdate } from "./events.ts";
import { decodeBase64Std, goUnmarshalIntoMapError } from "./go-encoding.ts";
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPortName,
  isValidPortNum,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
} from "./names.ts";
import {
  fieldImmutableErrorMsg,
  validateFinalizerName,
  validateKubeFinalizerName,
  validateLabels,
  validateObjectMetaCreate,
  validateObjectMetaUpdate,
  type ObjectMetaOptions,
} from "./object-meta.ts";
import {
  goQuantityRepr,
  quantityCmp,
  quantityFromWire,
  quantityMilliValue,
  quantitySign,
  quantityString,
  quantityValue,
  type Quantity,
} from "./quantity.ts";
import { Wire, byteLength, isObject, readRoot, type JsonObject } from "./wire.ts";

/** core.MaxSecretSize: the limit on a Secret's data and a ConfigMap's data plus binaryData. */
export const maxSecretSize = 1 * 1024 * 1024;
const immutableWhenSet = "field is immutable when `immutable` is set";
const metaPath = Path.root("metadata");

const coreMeta = (
  namespaced: boolean,
  nameValidator: ObjectMetaOptions["nameValidator"],
): ObjectMetaOptions => ({
  namespaced,
  nameValidator,
  kubeFinalizers: true,
});

const start = readRoot;

/** Stored objects are trusted: reading them never reports. */
const stored = (obj: unknown): JsonObject => (isObject(obj) ? obj : {});

// ---- byte maps (base64 on the wire) ---------------------------------------------------------

interface ByteEntry {
  key: string;
  size: number;
  bytes: Uint8Array | undefined;
  raw: string;
}

/** A map of base64 strings decoded as Go decodes []byte; undecodable values are reported. */
function readByteMap(
  v: unknown,
  path: Path,
  w: Wire,
  errs: FieldError[],
  redacted: string,
): ByteEntry[] | undefined {
  const entries = w.stringMap(v, path);
  if (entries === undefined) return undefined;
  return entries.map(([key, raw]) => {
    const decoded = decodeBase64Std(raw);
    if (!decoded.ok) {
      // kube fails the decode itself (400 "… cannot be handled as a …: illegal base64 data at input byte N").
      errs.push(field.invalid(path.key(key), redacted, decoded.error));
      return { key, size: 0, bytes: undefined, raw };
    }
    return { key, size: decoded.bytes.length, bytes: decoded.bytes, raw };
  });
}

/**
 * reflect.DeepEqual of two maps as kube sees them on update: the stored object never holds an
 * empty map (omitempty), so an old empty map is absent while a new empty one is not.
 */
function sameMap(
  next: readonly (readonly [string, string])[] | undefined,
  old: readonly (readonly [string, string])[] | undefined,
): boolean {
  const o = old !== undefined && old.length > 0 ? old : undefined;
  if (next === undefined || o === undefined) return next === o;
  if (next.length !== o.length) return false;
  const m = new Map(o);
  return next.every(([k, v]) => m.get(k) === v);
}

// ---- ConfigMap ----------------------------------------------------------------------------

/** ValidateConfigMap. */
export function validateConfigMap(obj: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, coreMeta(true, nameIsDNSSubdomain)));
  const dataPath = Path.root("data");
  const binaryPath = Path.root("binaryData");
  const data = w.stringMap(o.data, dataPath) ?? [];
  const binary = readByteMap(o.binaryData, binaryPath, w, errs, "<value omitted>") ?? [];
  const binaryKeys = new Set(binary.map((b) => b.key));
  let total = 0;
  for (const [key, value] of data) {
    for (const msg of isConfigMapKey(key)) errs.push(field.invalid(dataPath.key(key), key, msg));
    if (binaryKeys.has(key)) {
      errs.push(field.invalid(dataPath.key(key), key, "duplicate of key present in binaryData"));
    }
    total += byteLength(value);
  }
  for (const b of binary) {
    for (const msg of isConfigMapKey(b.key)) errs.push(field.invalid(binaryPath.key(b.key), b.key, msg));
    total += b.size;
  }
  // The whole object is too large: kube reports it on the nameless path "[]".
  if (total > maxSecretSize) errs.push(field.tooLong(Path.root(""), maxSecretSize));
  return errs;
}

/** ValidateConfigMapUpdate: once immutable, immutable stays set and data/binaryData stay as they were. */
export function validateConfigMapUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  const prev = stored(old);
  errs.push(...validateObjectMetaUpdate(o.metadata, prev.metadata, { kubeFinalizers: true }));
  if (prev.immutable === true) {
    if (w.bool(o.immutable, Path.root("immutable")) !== true) {
      errs.push(field.forbidden(Path.root("immutable"), immutableWhenSet));
    }
    const quiet = new Wire([]);
    if (!sameMap(quiet.stringMap(o.data, metaPath), quiet.stringMap(prev.data, metaPath))) {
      errs.push(field.forbidden(Path.root("data"), immutableWhenSet));
    }
    if (!sameMap(quiet.stringMap(o.binaryData, metaPath), quiet.stringMap(prev.binaryData, metaPath))) {
      errs.push(field.forbidden(Path.root("binaryData"), immutableWhenSet));
    }
  }
  errs.push(...validateConfigMap(obj));
  return errs;
}

// ---- Secret -------------------------------------------------------------------------------

export const secretTypes = {
  opaque: "Opaque",
  serviceAccountToken: "kubernetes.io/service-account-token",
  dockercfg: "kubernetes.io/dockercfg",
  dockerConfigJson: "kubernetes.io/dockerconfigjson",
  basicAuth: "kubernetes.io/basic-auth",
  sshAuth: "kubernetes.io/ssh-auth",
  tls: "kubernetes.io/tls",
  bootstrapToken: "bootstrap.kubernetes.io/token",
} as const;

const redactedSecret = "<secret contents redacted>";

/** Secret.data after kube's conversion: stringData entries (UTF-8) override data entries. */
function secretData(o: JsonObject, w: Wire, errs: FieldError[]): Map<string, ByteEntry> {
  const data = new Map<string, ByteEntry>();
  for (const e of readByteMap(o.data, Path.root("data"), w, errs, redactedSecret) ?? []) data.set(e.key, e);
  for (const [key, value] of w.stringMap(o.stringData, Path.root("stringData")) ?? []) {
    const bytes = Buffer.from(value, "utf8");
    data.set(key, { key, size: bytes.length, bytes, raw: value });
  }
  return data;
}

/** ValidateSecret: data keys, total size, and the keys each built-in type requires. */
export function validateSecret(obj: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, coreMeta(true, nameIsDNSSubdomain)));
  const dataPath = Path.root("data");
  const data = secretData(o, w, errs);
  let total = 0;
  for (const e of data.values()) {
    for (const msg of isConfigMapKey(e.key)) errs.push(field.invalid(dataPath.key(e.key), e.key, msg));
    total += e.size;
  }
  if (total > maxSecretSize) errs.push(field.tooLong(dataPath, maxSecretSize));

  const type = w.string(o.type, Path.root("type")) ?? "";
  const has = (k: string): boolean => data.has(k);
  const requireKey = (k: string): void => {
    errs.push(field.required(dataPath.key(k)));
  };
  const checkJson = (k: string): void => {
    const e = data.get(k);
    if (e === undefined) return requireKey(k);
    const msg = e.bytes === undefined ? undefined : goUnmarshalIntoMapError(e.bytes);
    if (msg !== undefined) errs.push(field.invalid(dataPath.key(k), redactedSecret, msg));
  };
  switch (type) {
    case secretTypes.serviceAccountToken: {
      const m = isObject(o.metadata) ? o.metadata : {};
      const annotations = isObject(m.annotations) ? m.annotations : {};
      const sa = annotations["kubernetes.io/service-account.name"];
      if (typeof sa !== "string" || sa.length === 0) {
        errs.push(
          field.required(Path.root("metadata", "annotations").key("kubernetes.io/service-account.name")),
        );
      }
      break;
    }
    case secretTypes.dockercfg:
      checkJson(".dockercfg");
      break;
    case secretTypes.dockerConfigJson:
      checkJson(".dockerconfigjson");
      break;
    case secretTypes.basicAuth:
      // Either key may be empty, but at least one must be present.
      if (!has("username") && !has("password")) {
        requireKey("username");
        requireKey("password");
      }
      break;
    case secretTypes.sshAuth:
      if ((data.get("ssh-privatekey")?.size ?? 0) === 0) requireKey("ssh-privatekey");
      break;
    case secretTypes.tls:
      if (!has("tls.crt")) requireKey("tls.crt");
      if (!has("tls.key")) requireKey("tls.key");
      break;
    default:
      // Opaque, "", bootstrap tokens and custom types: nothing beyond the common rules.
      break;
  }
  return errs;
}

/** ValidateSecretUpdate: the type never changes; an immutable Secret keeps its data. */
export function validateSecretUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  const prev = stored(old);
  errs.push(...validateObjectMetaUpdate(o.metadata, prev.metadata, { kubeFinalizers: true }));
  const type = w.string(o.type, Path.root("type")) ?? "";
  const oldType = typeof prev.type === "string" ? prev.type : "";
  if (type !== oldType) errs.push(field.invalid(Path.root("type"), type, fieldImmutableErrorMsg));
  if (prev.immutable === true) {
    if (w.bool(o.immutable, Path.root("immutable")) !== true) {
      errs.push(field.forbidden(Path.root("immutable"), immutableWhenSet));
    }
    const quiet = new Wire([]);
    const asMap = (x: JsonObject): [string, string][] | undefined => {
      const d = secretData(x, quiet, []);
      return d.size === 0 && x.data === undefined && x.stringData === undefined
        ? undefined
        : [...d.values()].map((e) => [e.key, Buffer.from(e.bytes ?? []).toString("base64")]);
    };
    if (!sameMap(asMap(o), asMap(prev))) errs.push(field.forbidden(Path.root("data"), immutableWhenSet));
  }
  errs.push(...validateSecret(obj));
  return errs;
}

// ---- Namespace, ServiceAccount ------------------------------------------------------------

function namespaceSpecFinalizers(o: JsonObject, w: Wire, indexed: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const path = Path.root("spec", "finalizers");
  const spec = w.object(o.spec, Path.root("spec")) ?? {};
  (w.strings(spec.finalizers, path) ?? []).forEach((f, i) => {
    const p = indexed ? path.index(i) : path;
    errs.push(...validateFinalizerName(f, p), ...validateKubeFinalizerName(f, p));
  });
  return errs;
}

/** ValidateNamespace: a DNS-1123 label name, no namespace, valid spec.finalizers. */
export function validateNamespace(obj: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, coreMeta(false, nameIsDNSLabel)));
  errs.push(...namespaceSpecFinalizers(o, w, false));
  return errs;
}

/** The namespace strategy's ValidateUpdate: ValidateNamespace then ValidateNamespaceUpdate. */
export function validateNamespaceUpdate(obj: unknown, old: unknown): FieldError[] {
  const errs = validateNamespace(obj);
  const o = isObject(obj) ? obj : {};
  errs.push(...validateObjectMetaUpdate(o.metadata, stored(old).metadata, { kubeFinalizers: true }));
  return errs;
}

/** ValidateNamespaceFinalizeUpdate (the finalize subresource): indexed spec.finalizers paths. */
export function validateNamespaceFinalizeUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaUpdate(o.metadata, stored(old).metadata, { kubeFinalizers: true }));
  errs.push(...namespaceSpecFinalizers(o, w, true));
  return errs;
}

/** ValidateServiceAccount: metadata only. */
export function validateServiceAccount(obj: unknown): FieldError[] {
  const { errs, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, coreMeta(true, nameIsDNSSubdomain)));
  return errs;
}

export function validateServiceAccountUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, o } = start(obj);
  errs.push(...validateObjectMetaUpdate(o.metadata, stored(old).metadata, { kubeFinalizers: true }));
  errs.push(...validateServiceAccount(obj));
  return errs;
}

// ---- Event (core/v1 API) ------------------------------------------------------------------

/** A core/v1 Event through the core API: the legacy checks only (events.ts has the strict ones). */
export function validateCoreEvent(obj: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  const e = fromCoreV1(o, w);
  return [...errs, ...validateInternalEventCreate(e, false)];
}

export function validateCoreEventUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  const n = fromCoreV1(o, w);
  return [...errs, ...validateInternalEventUpdate(n, fromCoreV1(stored(old), new Wire([])), false)];
}

// ---- Service (ports and type) -------------------------------------------------------------

const serviceTypes = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const sessionAffinities = ["ClientIP", "None"];
const protocols = ["SCTP", "TCP", "UDP"];
const maxClientIPServiceAffinitySeconds = 86400;

interface ServicePort {
  name: string;
  protocol: string;
  appProtocol: string | undefined;
  port: number;
  targetPort: number | string;
  nodePort: number;
}

/** %#v of the (protocol, port) key kube reports duplicated ports with. */
const goServicePortKey = (protocol: string, port: number): string =>
  goStruct("core.ServicePort", [
    ["Name", '""'],
    ["Protocol", goQuote(protocol)],
    ["AppProtocol", goPointer("string", true)],
    ["Port", String(port)],
    ["TargetPort", 'intstr.IntOrString{Type:0, IntVal:0, StrVal:""}'],
    ["NodePort", "0"],
  ]);

/**
 * ValidateService, reduced to metadata, type, ports, selector, session affinity and the
 * ExternalName and LoadBalancer basics. Not checked: cluster IPs and IP families, external IPs,
 * load-balancer source ranges and class, traffic policies and health-check node ports.
 * Expects v1 defaulting (type, sessionAffinity, protocol, targetPort).
 */
export function validateService(obj: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, coreMeta(true, nameIsDNS1035Label)));
  const m = isObject(o.metadata) ? o.metadata : {};
  const annotations = new Map(new Wire([]).stringMap(m.annotations, metaPath) ?? []);
  const hints = annotations.get("service.kubernetes.io/topology-aware-hints");
  const mode = annotations.get("service.kubernetes.io/topology-mode");
  if (hints !== undefined && mode !== undefined && hints !== mode) {
    errs.push(
      field.invalid(
        metaPath.child("annotations").key("service.kubernetes.io/topology-mode"),
        mode,
        "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
      ),
    );
  }

  const specPath = Path.root("spec");
  const spec = w.object(o.spec, specPath) ?? {};
  const type = w.string(spec.type, specPath.child("type")) ?? "";
  const clusterIP = w.string(spec.clusterIP, specPath.child("clusterIP")) ?? "";
  // The strategy derives clusterIPs from clusterIP when only the latter is given.
  const clusterIPs =
    w.strings(spec.clusterIPs, specPath.child("clusterIPs")) ?? (clusterIP.length > 0 ? [clusterIP] : []);
  const headless = clusterIPs.length === 1 && clusterIPs[0] === "None";
  const portsPath = specPath.child("ports");
  const ports = (w.objects(spec.ports, portsPath) ?? []).map(([p, i]) =>
    readServicePort(p, portsPath.index(i), w),
  );

  if (ports.length === 0 && !headless && type !== "ExternalName") errs.push(field.required(portsPath));
  if ((type === "LoadBalancer" || type === "NodePort") && headless) {
    errs.push(
      field.invalid(
        specPath.child("clusterIPs").index(0),
        clusterIPs[0] ?? "",
        `may not be set to 'None' for ${type} services`,
      ),
    );
  }
  if (type === "ExternalName") {
    if (clusterIPs.length > 0) {
      errs.push(field.forbidden(specPath.child("clusterIPs"), "may not be set for ExternalName services"));
    }
    if ((w.strings(spec.ipFamilies, specPath.child("ipFamilies")) ?? []).length > 0) {
      errs.push(field.forbidden(specPath.child("ipFamilies"), "may not be set for ExternalName services"));
    }
    if (w.string(spec.ipFamilyPolicy, specPath.child("ipFamilyPolicy")) !== undefined) {
      errs.push(
        field.forbidden(specPath.child("ipFamilyPolicy"), "may not be set for ExternalName services"),
      );
    }
    const cname = (w.string(spec.externalName, specPath.child("externalName")) ?? "").replace(/\.$/, "");
    if (cname.length > 0) {
      for (const msg of isDNS1123Subdomain(cname))
        errs.push(field.invalid(specPath.child("externalName"), cname, msg));
    } else errs.push(field.required(specPath.child("externalName")));
  }

  const names = new Set<string>();
  ports.forEach((sp, i) =>
    errs.push(...validateServicePort(sp, ports.length > 1, names, portsPath.index(i))),
  );

  const selector = w.stringMap(spec.selector, specPath.child("selector"));
  if (selector !== undefined) errs.push(...validateLabels(selector, specPath.child("selector")));

  const affinity = w.string(spec.sessionAffinity, specPath.child("sessionAffinity")) ?? "";
  if (affinity.length === 0) errs.push(field.required(specPath.child("sessionAffinity")));
  else if (!sessionAffinities.includes(affinity)) {
    errs.push(field.notSupported(specPath.child("sessionAffinity"), affinity, sessionAffinities));
  }
  const configPath = specPath.child("sessionAffinityConfig");
  const config = w.object(spec.sessionAffinityConfig, configPath);
  if (affinity === "ClientIP") {
    const when = "when session affinity type is ClientIP";
    const clientIP =
      config === undefined ? undefined : w.object(config.clientIP, configPath.child("clientIP"));
    const timeoutPath = configPath.child("clientIP", "timeoutSeconds");
    const timeout = clientIP === undefined ? undefined : w.int(clientIP.timeoutSeconds, timeoutPath);
    if (config === undefined) errs.push(field.required(configPath, when));
    else if (clientIP === undefined) errs.push(field.required(configPath.child("clientIP"), when));
    else if (timeout === undefined) errs.push(field.required(timeoutPath, when));
    else if (timeout <= 0 || timeout > maxClientIPServiceAffinitySeconds) {
      errs.push(
        field.invalid(
          timeoutPath,
          timeout,
          `must be greater than 0 and less than ${maxClientIPServiceAffinitySeconds}`,
        ),
      );
    }
  } else if (affinity === "None" && config !== undefined) {
    errs.push(field.forbidden(configPath, "must not be set when session affinity is None"));
  }

  if (type.length === 0) errs.push(field.required(specPath.child("type")));
  else if (!serviceTypes.includes(type))
    errs.push(field.notSupported(specPath.child("type"), type, serviceTypes));

  if (type === "ClusterIP") {
    ports.forEach((sp, i) => {
      if (sp.nodePort !== 0) {
        errs.push(
          field.forbidden(portsPath.index(i).child("nodePort"), "may not be used when `type` is 'ClusterIP'"),
        );
      }
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((sp, i) => {
    if (sp.nodePort === 0) return;
    const key = `${sp.protocol}/${sp.nodePort}`;
    if (nodePorts.has(key)) errs.push(field.duplicate(portsPath.index(i).child("nodePort"), sp.nodePort));
    nodePorts.add(key);
  });
  const seen = new Set<string>();
  ports.forEach((sp, i) => {
    const key = `${sp.protocol}/${sp.port}`;
    if (seen.has(key))
      errs.push(field.duplicate(portsPath.index(i), new GoRepr(goServicePortKey(sp.protocol, sp.port))));
    seen.add(key);
  });

  const allocate = w.bool(
    spec.allocateLoadBalancerNodePorts,
    specPath.child("allocateLoadBalancerNodePorts"),
  );
  if (allocate !== undefined && type !== "LoadBalancer") {
    errs.push(
      field.forbidden(
        specPath.child("allocateLoadBalancerNodePorts"),
        "may only be used when `type` is 'LoadBalancer'",
      ),
    );
  }
  if (type === "LoadBalancer" && allocate === undefined) {
    // Upstream names this field without its "spec." prefix.
    errs.push(field.required(Path.root("allocateLoadBalancerNodePorts")));
  }
  return errs;
}

function readServicePort(p: JsonObject, path: Path, w: Wire): ServicePort {
  const target = p.targetPort;
  let targetPort: number | string = 0;
  if (typeof target === "string") targetPort = target;
  else if (target !== undefined && target !== null) targetPort = w.int(target, path.child("targetPort")) ?? 0;
  return {
    name: w.string(p.name, path.child("name")) ?? "",
    protocol: w.string(p.protocol, path.child("protocol")) ?? "",
    appProtocol: w.string(p.appProtocol, path.child("appProtocol")),
    port: w.int(p.port, path.child("port")) ?? 0,
    targetPort,
    nodePort: w.int(p.nodePort, path.child("nodePort")) ?? 0,
  };
}

function validateServicePort(
  sp: ServicePort,
  requireName: boolean,
  names: Set<string>,
  path: Path,
): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && sp.name.length === 0) errs.push(field.required(path.child("name")));
  else if (sp.name.length > 0) {
    for (const msg of isDNS1123Label(sp.name)) errs.push(field.invalid(path.child("name"), sp.name, msg));
    if (names.has(sp.name)) errs.push(field.duplicate(path.child("name"), sp.name));
    else names.add(sp.name);
  }
  for (const msg of isValidPortNum(sp.port)) errs.push(field.invalid(path.child("port"), sp.port, msg));
  if (sp.protocol.length === 0) errs.push(field.required(path.child("protocol")));
  else if (!protocols.includes(sp.protocol))
    errs.push(field.notSupported(path.child("protocol"), sp.protocol, protocols));
  const target = path.child("targetPort");
  if (typeof sp.targetPort === "number") {
    for (const msg of isValidPortNum(sp.targetPort)) errs.push(field.invalid(target, sp.targetPort, msg));
  } else {
    for (const msg of isValidPortName(sp.targetPort)) errs.push(field.invalid(target, sp.targetPort, msg));
  }
  if (sp.appProtocol !== undefined) {
    for (const msg of isQualifiedName(sp.appProtocol)) {
      errs.push(field.invalid(path.child("appProtocol"), sp.appProtocol, msg));
    }
  }
  return errs;
}

/** ValidateServiceUpdate, reduced: metadata update, then the new object as on create. */
export function validateServiceUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, o } = start(obj);
  errs.push(...validateObjectMetaUpdate(o.metadata, stored(old).metadata, { kubeFinalizers: true }));
  errs.push(...validateService(obj));
  return errs;
}

// ---- resource names -----------------------------------------------------------------------

const standardResources = new Set([
  "cpu",
  "memory",
  "ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "pods",
  "resourcequotas",
  "services",
  "replicationcontrollers",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "storage",
  "requests.storage",
  "services.nodeports",
  "services.loadbalancers",
]);
/** The standard resources a quota may limit: all of them but bare "storage". */
const standardQuotaResources = new Set([...standardResources].filter((r) => r !== "storage"));
const integerResources = new Set([
  "pods",
  "resourcequotas",
  "services",
  "replicationcontrollers",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "services.nodeports",
  "services.loadbalancers",
]);
const standardContainerResources = new Set(["cpu", "memory", "ephemeral-storage"]);

const isHugePageResourceName = (name: string): boolean => name.startsWith("hugepages-");
const isQuotaHugePageResourceName = (name: string): boolean =>
  name.startsWith("hugepages-") || name.startsWith("requests.hugepages-");
const isNativeResource = (name: string): boolean => !name.includes("/") || name.includes("kubernetes.io/");
const isExtendedResourceName = (name: string): boolean =>
  !isNativeResource(name) &&
  !name.startsWith("requests.") &&
  isQualifiedName(`requests.${name}`).length === 0;
const isIntegerResourceName = (name: string): boolean =>
  integerResources.has(name) || isExtendedResourceName(name);
const isOvercommitAllowed = (name: string): boolean =>
  isNativeResource(name) && !isHugePageResourceName(name);
const unqualified = (name: string): boolean => name.split("/").length === 1;

/** validateResourceName: a qualified name, and a standard resource unless domain-qualified. */
function validateResourceName(name: string, path: Path): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => field.invalid(path, name, msg));
  if (errs.length > 0) return errs;
  if (unqualified(name) && !standardResources.has(name) && !isQuotaHugePageResourceName(name)) {
    return [field.invalid(path, name, "must be a standard resource type or fully qualified")];
  }
  return errs;
}

function validateResourceQuotaResourceName(name: string, path: Path): FieldError[] {
  const errs = validateResourceName(name, path);
  if (unqualified(name) && !standardQuotaResources.has(name) && !isQuotaHugePageResourceName(name)) {
    errs.push(field.invalid(path, name, "must be a standard resource for quota"));
  }
  return errs;
}

function validateContainerResourceName(name: string, path: Path): FieldError[] {
  const errs = validateResourceName(name, path);
  if (unqualified(name)) {
    if (!standardContainerResources.has(name) && !isHugePageResourceName(name)) {
      errs.push(field.invalid(path, name, "must be a standard resource for containers"));
    }
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(field.invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** Reads a map of quantities; an unparsable one is reported with the decoder's message. */
function readQuantities(v: unknown, path: Path, w: Wire, errs: FieldError[]): [string, Quantity][] {
  const o = w.object(v, path);
  if (o === undefined) return [];
  const out: [string, Quantity][] = [];
  for (const [k, raw] of Object.entries(o)) {
    const q = quantityFromWire(raw);
    // kube fails the decode itself: 400 "… cannot be handled as a …: quantities must match …".
    if ("error" in q)
      errs.push(field.invalid(path.key(k), typeof raw === "string" ? raw : String(raw), q.error));
    else out.push([k, q]);
  }
  return out;
}

/** ValidateResourceQuantityValue: non-negative, and whole for integer resources. */
function validateResourceQuantityValue(name: string, q: Quantity, path: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (quantitySign(q) < 0)
    errs.push(field.invalid(path, quantityString(q), "must be greater than or equal to 0"));
  if (isIntegerResourceName(name) && quantityMilliValue(q) % 1000n !== 0n) {
    errs.push(field.invalid(path, new GoRepr(goQuantityRepr(q)), "must be an integer"));
  }
  return errs;
}

// ---- ResourceQuota ------------------------------------------------------------------------

const quotaScopes = [
  "Terminating",
  "NotTerminating",
  "BestEffort",
  "NotBestEffort",
  "PriorityClass",
  "CrossNamespacePodAffinity",
  "VolumeAttributesClass",
];
const podCompute = new Set([
  "cpu",
  "memory",
  "limits.cpu",
  "limits.memory",
  "requests.cpu",
  "requests.memory",
]);

function scopeValidForResource(scope: string, resource: string): boolean {
  switch (scope) {
    case "Terminating":
    case "NotTerminating":
    case "NotBestEffort":
    case "PriorityClass":
    case "CrossNamespacePodAffinity":
      return resource === "pods" || podCompute.has(resource);
    case "BestEffort":
      return resource === "pods";
    case "VolumeAttributesClass":
      return resource === "persistentvolumeclaims" || resource === "requests.storage";
    default:
      return true;
  }
}

const conflictingScopes: [string, string][] = [
  ["BestEffort", "NotBestEffort"],
  ["Terminating", "NotTerminating"],
];

interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values: string[] | undefined;
}

function validateQuotaSpec(spec: JsonObject, specPath: Path, w: Wire, errs: FieldError[]): void {
  const hardPath = specPath.child("hard");
  const hard = readQuantities(spec.hard, hardPath, w, errs);
  for (const [k, q] of hard) {
    errs.push(...validateResourceQuotaResourceName(k, hardPath.key(k)));
    errs.push(...validateResourceQuantityValue(k, q, hardPath.key(k)));
  }
  const hardNames = hard.map(([k]) => k).sort();
  const scopes = w.strings(spec.scopes, specPath.child("scopes"));
  if (scopes !== undefined && scopes.length > 0) {
    const bad = goStringSlice("core.ResourceQuotaScope", scopes);
    const scopesPath = specPath.child("scopes");
    for (const scope of scopes) {
      if (!quotaScopes.includes(scope)) errs.push(field.invalid(scopesPath, bad, "unsupported scope"));
      for (const k of hardNames) {
        if (
          (standardQuotaResources.has(k) || isQuotaHugePageResourceName(k)) &&
          !scopeValidForResource(scope, k)
        ) {
          errs.push(field.invalid(scopesPath, bad, "unsupported scope applied to resource"));
        }
      }
    }
    for (const [a, b] of conflictingScopes) {
      if (scopes.includes(a) && scopes.includes(b))
        errs.push(field.invalid(scopesPath, bad, "conflicting scopes"));
    }
  }
  const selectorPath = specPath.child("scopeSelector");
  const selector = w.object(spec.scopeSelector, selectorPath);
  if (selector === undefined) return;
  const exprPath = selectorPath.child("matchExpressions");
  const reqs: ScopeRequirement[] = (w.objects(selector.matchExpressions, exprPath) ?? []).map(([r, i]) => ({
    scopeName: w.string(r.scopeName, exprPath.index(i).child("scopeName")) ?? "",
    operator: w.string(r.operator, exprPath.index(i).child("operator")) ?? "",
    values: w.strings(r.values, exprPath.index(i).child("values")),
  }));
  const selectorRepr = new GoRepr(
    goStruct("core.ScopeSelector", [
      [
        "MatchExpressions",
        `[]core.ScopedResourceSelectorRequirement{${reqs
          .map((r) =>
            goStruct("core.ScopedResourceSelectorRequirement", [
              ["ScopeName", goQuote(r.scopeName)],
              ["Operator", goQuote(r.operator)],
              ["Values", goStringSlice("string", r.values).text],
            ]),
          )
          .join(", ")}}`,
      ],
    ]),
  );
  const seen = new Set<string>();
  for (const r of reqs) {
    if (!quotaScopes.includes(r.scopeName)) {
      errs.push(field.invalid(exprPath.child("scopeName"), r.scopeName, "unsupported scope"));
    }
    for (const k of hardNames) {
      if (
        (standardQuotaResources.has(k) || isQuotaHugePageResourceName(k)) &&
        !scopeValidForResource(r.scopeName, k)
      ) {
        errs.push(field.invalid(exprPath, selectorRepr, "unsupported scope applied to resource"));
      }
    }
    if (
      ["BestEffort", "NotBestEffort", "Terminating", "NotTerminating", "CrossNamespacePodAffinity"].includes(
        r.scopeName,
      ) &&
      r.operator !== "Exists"
    ) {
      errs.push(
        field.invalid(
          exprPath.child("operator"),
          r.operator,
          "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ),
      );
    }
    const values = r.values ?? [];
    switch (r.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) {
          errs.push(
            field.required(
              exprPath.child("values"),
              "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
            ),
          );
        }
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length !== 0) {
          errs.push(
            field.invalid(
              exprPath.child("values"),
              goStringSlice("string", values),
              "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
            ),
          );
        }
        break;
      default:
        errs.push(field.invalid(exprPath.child("operator"), r.operator, "not a valid selector operator"));
    }
    seen.add(r.scopeName);
  }
  for (const [a, b] of conflictingScopes) {
    if (seen.has(a) && seen.has(b)) {
      errs.push(
        field.invalid(exprPath, goStringSlice("core.ResourceQuotaScope", scopes), "conflicting scopes"),
      );
    }
  }
}

function validateQuotaStatus(status: JsonObject, statusPath: Path, w: Wire, errs: FieldError[]): void {
  for (const part of ["hard", "used"] as const) {
    const p = statusPath.child(part);
    for (const [k, q] of readQuantities(status[part], p, w, errs)) {
      errs.push(...validateResourceQuotaResourceName(k, p.key(k)));
      errs.push(...validateResourceQuantityValue(k, q, p.key(k)));
    }
  }
}

/** ValidateResourceQuota: hard keys and quantities, scopes, scope selector, status. */
export function validateResourceQuota(obj: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, coreMeta(true, nameIsDNSSubdomain)));
  validateQuotaSpec(w.object(o.spec, Path.root("spec")) ?? {}, Path.root("spec"), w, errs);
  validateQuotaStatus(w.object(o.status, Path.root("status")) ?? {}, Path.root("status"), w, errs);
  return errs;
}

/** ValidateResourceQuotaUpdate: metadata update, spec, and scopes that never change. */
export function validateResourceQuotaUpdate(obj: unknown, old: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  const prev = stored(old);
  errs.push(...validateObjectMetaUpdate(o.metadata, prev.metadata, { kubeFinalizers: true }));
  const spec = w.object(o.spec, Path.root("spec")) ?? {};
  validateQuotaSpec(spec, Path.root("spec"), w, errs);
  const quiet = new Wire([]);
  const newScopes = quiet.strings(spec.scopes, metaPath);
  const oldScopes = quiet.strings(stored(prev.spec).scopes, metaPath);
  const a = new Set(newScopes ?? []);
  const b = new Set(oldScopes ?? []);
  if (a.size !== b.size || [...a].some((s) => !b.has(s))) {
    errs.push(
      field.invalid(
        Path.root("spec", "scopes"),
        goStringSlice("core.ResourceQuotaScope", newScopes),
        fieldImmutableErrorMsg,
      ),
    );
  }
  return errs;
}

// ---- LimitRange ---------------------------------------------------------------------------

const limitTypes = new Set(["Pod", "Container", "PersistentVolumeClaim"]);
const maxMilliValue = 9223372036854775n; // math.MaxInt64 / 1000

/** Go's %f: six decimals, with Go's spelling of infinities. */
function goFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return v.toFixed(6);
}

type Bound = "min" | "max" | "default" | "defaultRequest";

/**
 * The orderings ValidateLimitRange checks, in its order: [lower, upper, the field reported, the
 * bound printed as the bad value, how the message names the lower and the upper bound].
 */
const boundOrder: [Bound, Bound, Bound, Bound, string, string][] = [
  ["min", "max", "min", "min", "min value", "max value"],
  ["min", "defaultRequest", "defaultRequest", "defaultRequest", "min value", "default request value"],
  ["defaultRequest", "max", "defaultRequest", "defaultRequest", "default request value", "max value"],
  [
    "defaultRequest",
    "default",
    "defaultRequest",
    "defaultRequest",
    "default request value",
    "default limit value",
  ],
  ["min", "default", "default", "min", "min value", "default value"],
  ["default", "max", "default", "max", "default value", "max value"],
];

/** ValidateLimitRange: limit types, resource names, and min ≤ defaultRequest ≤ default ≤ max. */
export function validateLimitRange(obj: unknown): FieldError[] {
  const { errs, w, o } = start(obj);
  errs.push(...validateObjectMetaCreate(o.metadata, coreMeta(true, nameIsDNSSubdomain)));
  const spec = w.object(o.spec, Path.root("spec")) ?? {};
  const limitsPath = Path.root("spec", "limits");
  const seenTypes = new Set<string>();
  for (const [limit, i] of w.objects(spec.limits, limitsPath) ?? []) {
    const idx = limitsPath.index(i);
    const type = w.string(limit.type, idx.child("type")) ?? "";
    const typeErrs = isQualifiedName(type).map((msg) => field.invalid(idx.child("type"), type, msg));
    if (typeErrs.length === 0 && unqualified(type) && !limitTypes.has(type)) {
      typeErrs.push(
        field.invalid(idx.child("type"), type, "must be a standard limit type or fully qualified"),
      );
    }
    errs.push(...typeErrs);
    if (seenTypes.has(type)) errs.push(field.duplicate(idx.child("type"), type));
    seenTypes.add(type);

    const resourceName = (k: string, p: Path): FieldError[] =>
      type === "Pod" || type === "Container"
        ? validateContainerResourceName(k, p)
        : validateResourceName(k, p);
    const keys: string[] = [];
    const read = (part: string): Map<string, Quantity> => {
      const out = new Map<string, Quantity>();
      for (const [k, q] of readQuantities(limit[part], idx.child(part), w, errs)) {
        errs.push(...resourceName(k, idx.child(part).key(k)));
        if (!keys.includes(k)) keys.push(k);
        out.set(k, q);
      }
      return out;
    };
    const max = read("max");
    const min = read("min");
    let defaults = new Map<string, Quantity>();
    let defaultRequests = new Map<string, Quantity>();
    if (type === "Pod") {
      if (isObject(limit.default) && Object.keys(limit.default).length > 0) {
        errs.push(field.forbidden(idx.child("default"), "may not be specified when `type` is 'Pod'"));
      }
      if (isObject(limit.defaultRequest) && Object.keys(limit.defaultRequest).length > 0) {
        errs.push(field.forbidden(idx.child("defaultRequest"), "may not be specified when `type` is 'Pod'"));
      }
    } else {
      defaults = read("default");
      defaultRequests = read("defaultRequest");
    }
    if (type === "PersistentVolumeClaim" && !min.has("storage") && !max.has("storage")) {
      errs.push(
        field.required(
          idx.child("limits"),
          "either minimum or maximum storage value is required, but neither was provided",
        ),
      );
    }
    const ratios = read("maxLimitRequestRatio");

    for (const k of keys) {
      const bounds: Record<Bound, Quantity | undefined> = {
        min: min.get(k),
        max: max.get(k),
        default: defaults.get(k),
        defaultRequest: defaultRequests.get(k),
      };
      const { min: mn, max: mx, default: def, defaultRequest: req } = bounds;
      const ratio = ratios.get(k);
      const s = quantityString;
      const repr = (q: Quantity): GoRepr => new GoRepr(goQuantityRepr(q));
      for (const [low, high, at, shown, lowWords, highWords] of boundOrder) {
        const a = bounds[low];
        const b = bounds[high];
        const value = bounds[shown];
        if (a !== undefined && b !== undefined && value !== undefined && quantityCmp(a, b) > 0) {
          errs.push(
            field.invalid(
              idx.child(at).key(k),
              repr(value),
              `${lowWords} ${s(a)} is greater than ${highWords} ${s(b)}`,
            ),
          );
        }
      }
      if (
        ratio !== undefined &&
        quantityCmp(ratio, { form: "int64", value: 1n, scale: 0, format: "DecimalSI", s: "" }) < 0
      ) {
        errs.push(
          field.invalid(
            idx.child("maxLimitRequestRatio").key(k),
            repr(ratio),
            `ratio ${s(ratio)} is less than 1`,
          ),
        );
      }
      if (ratio !== undefined && mn !== undefined && mx !== undefined) {
        let ratioValue = Number(quantityValue(ratio));
        let minValue = quantityValue(mn);
        let maxValue = quantityValue(mx);
        if (quantityValue(ratio) < maxMilliValue && minValue < maxMilliValue && maxValue < maxMilliValue) {
          ratioValue = Number(quantityMilliValue(ratio)) / 1000;
          minValue = quantityMilliValue(mn);
          maxValue = quantityMilliValue(mx);
        }
        const limitValue = Number(maxValue) / Number(minValue);
        if (ratioValue > limitValue) {
          errs.push(
            field.invalid(
              idx.child("maxLimitRequestRatio").key(k),
              repr(ratio),
              `ratio ${s(ratio)} is greater than max/min = ${goFloat(limitValue)}`,
            ),
          );
        }
      }
      if (!isOvercommitAllowed(k) && def !== undefined && req !== undefined && quantityCmp(def, req) !== 0) {
        errs.push(
          field.invalid(
            idx.child("defaultRequest").key(k),
            repr(req),
            `default value ${s(def)} must equal to defaultRequest value ${s(req)} in ${k}`,
          ),
        );
      }
    }
  }
  return errs;
}

/** The LimitRange strategy validates an update as a create (metadata rules are the common ones). */
export const validateLimitRangeUpdate = (obj: unknown, _old: unknown): FieldError[] =>
  validateLimitRange(obj);
