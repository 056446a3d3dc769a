// The per-request audit recorder: the chain begins one per request after authentication
// (position 4), and the stages after it fill it in. It evaluates the tenant's policy once,
// emits one event per stage (RequestReceived, ResponseStarted for long-running requests,
// ResponseComplete or Panic) unless the policy omits the stage, and does nothing at level
// None. At Metadata it copies no objects; at Request/RequestResponse it keeps a JSON
// snapshot of the bodies, as kube encodes them when it logs them (k8s.io/apiserver
// pkg/audit/request.go, context.go and endpoints/filters/audit.go).

import type { UserInfo } from "../authn/user.ts";
import type { RequestInfo } from "../request/request-info.ts";
import {
  auditApiVersion,
  auditUser,
  boundedStatus,
  formatMicroTime,
  isStatusLike,
  nowMicros,
  snapshotObject,
  truncateUserAgent,
  type AuditEvent,
  type AuditObjectRef,
  type AuditResponseStatus,
  type AuditUserInfo,
  type StatusLike,
} from "./event.ts";
import { levelAtLeast, type AuditLevel, type AuditPolicy, type AuditStage } from "./policy.ts";
import { noopAuditMetrics, type AuditMetrics, type AuditSink } from "./sink.ts";

/** Annotation keys the pipeline writes (kube's, plus the tenant). */
export const auditAnnotations = {
  tenant: "multiplane.dev/tenant",
  authorizationDecision: "authorization.k8s.io/decision",
  authorizationReason: "authorization.k8s.io/reason",
} as const;

/** Values of authorization.k8s.io/decision, as kube's authorization filter writes them. */
export const authorizationDecisions = { allow: "allow", forbid: "forbid" } as const;

/** What the chain knows about a request when it begins auditing it (position 4). */
export interface AuditRequest {
  readonly auditId: string;
  readonly tenant: string;
  /** The tenant's compiled policy, or the platform default. */
  readonly policy: AuditPolicy;
  /** The authenticated user (before impersonation: the policy matches on who is asking). */
  readonly user: UserInfo;
  readonly info: RequestInfo;
  /** Path and query as received, e.g. `/api/v1/namespaces/default/pods?limit=500`. */
  readonly requestURI: string;
  /** From sourceIPs(headers, socket.remoteAddress). */
  readonly sourceIPs: readonly string[];
  readonly userAgent?: string;
  /** When the request arrived, in microseconds since the epoch (default: now). */
  readonly receivedAtMicros?: number;
  /** Long-running requests get a ResponseStarted event; default: watches. */
  readonly longRunning?: boolean;
  /** The tenant's own sink (its policy's audit webhooks), sent each event after the platform's. */
  readonly tenantSink?: AuditSink;
}

/**
 * A request that failed authentication (position 3 answers 401): kube audits it as one
 * ResponseStarted event with an empty user and a message naming the credentials tried.
 */
export interface FailedAuthenticationRequest extends Omit<AuditRequest, "user" | "longRunning"> {
  /** The request headers, to name what was tried (basic, bearer). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The query, for an `access_token` parameter. */
  readonly query?: URLSearchParams;
  /** Whether the client presented a certificate. */
  readonly clientCertificate?: boolean;
}

/** kube's getAuthMethods: the message of a failed authentication's responseStatus. */
export function failedAuthenticationMessage(req: {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly query?: URLSearchParams;
  readonly clientCertificate?: boolean;
}): string {
  const methods: string[] = [];
  const h = req.headers["authorization"];
  const auth = (Array.isArray(h) ? h[0] : h)?.trim() ?? "";
  const [scheme = "", ...rest] = auth.split(" ");
  if (scheme.toLowerCase() === "basic" && rest.length > 0) methods.push("basic");
  if (scheme.toLowerCase() === "bearer" && rest.length > 0) methods.push("bearer");
  if ((req.query?.get("access_token")?.trim() ?? "") !== "") methods.push("access_token");
  if (req.clientCertificate === true) methods.push("x509");
  return methods.length > 0
    ? `Authentication failed, attempted: ${methods.join(", ")}`
    : "Authentication failed, no credentials provided";
}

/**
 * The audit state of one request. Called by the handler chain only, in stage order; never
 * throws, and every method is a no-op once the request is complete (or at level None).
 */
export interface AuditRecorder {
  readonly level: AuditLevel;
  /** Adds an annotation (Metadata and above); the first value set for a key wins, as in kube. */
  annotate(key: string, value: string): void;
  /** The impersonation stage (position 5) names whom the request acts as. */
  impersonate(user: UserInfo): void;
  /** Overrides objectRef fields (e.g. the uid and resourceVersion the storage answered). */
  setObjectRef(ref: AuditObjectRef): void;
  /**
   * The decoded request body (or the raw patch): completes objectRef from its metadata and,
   * at Request and above, keeps a snapshot of it. Does not keep a reference to `obj`.
   */
  setRequestObject(obj: unknown): void;
  /** Headers are being sent (code, default 200): emits ResponseStarted for long-running requests. */
  responseStarted(code?: number): void;
  /**
   * The response is finished: a code for a success, the Status for a failure (its bounded
   * fields go to responseStatus and, at RequestResponse, it is the response object).
   * Emits ResponseComplete, after ResponseStarted for a long-running request if not yet sent.
   */
  complete(result: number | StatusLike, responseObject?: unknown): void;
  /** The handler crashed: emits Panic with kube's 500 status instead of ResponseComplete. */
  panic(err: unknown): void;
}

export interface AuditorOptions {
  readonly sink: AuditSink;
  readonly metrics?: AuditMetrics;
  /** Microseconds since the epoch; tests fix it. */
  readonly now?: () => number;
}

/**
 * Makes one recorder per request. Built once per process by the server and shared by every
 * tenant; the policy comes with each request.
 */
export class Auditor {
  readonly #sink: AuditSink;
  readonly #metrics: AuditMetrics;
  readonly #now: () => number;

  constructor(opts: AuditorOptions) {
    this.#sink = opts.sink;
    this.#metrics = opts.metrics ?? noopAuditMetrics;
    this.#now = opts.now ?? nowMicros;
  }

  /** Evaluates the policy and emits RequestReceived (unless omitted). Called at position 4. */
  begin(req: AuditRequest): AuditRecorder {
    const rec = this.#start(req, req.user);
    rec?.emit("RequestReceived");
    return rec ?? disabledRecorder;
  }

  /** Audits a 401 (position 3, instead of begin): one ResponseStarted event, unless omitted. */
  failedAuthentication(req: FailedAuthenticationRequest): void {
    this.#start({ ...req, longRunning: false }, undefined)?.failAuthentication(
      failedAuthenticationMessage(req),
    );
  }

  #start(req: Omit<AuditRequest, "user">, user: UserInfo | undefined): Recorder | undefined {
    const { info } = req;
    const config = req.policy.levelFor({
      user,
      verb: info.verb,
      isResourceRequest: info.isResourceRequest,
      path: info.path,
      apiGroup: info.apiGroup,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
    });
    this.#metrics.level(config.level);
    if (config.level === "None") return undefined;
    return new Recorder(req, user, config.level, config.omitStages, config.omitManagedFields, this);
  }

  /**
   * @internal the recorder's way out: count, then hand over to the platform's sink and the
   * tenant's own; a throwing sink is counted, not thrown.
   */
  send(event: AuditEvent, tenantSink: AuditSink | undefined): void {
    this.#metrics.event();
    const batch = [event];
    this.#deliver(this.#sink, batch);
    if (tenantSink !== undefined) this.#deliver(tenantSink, batch);
  }

  #deliver(sink: AuditSink, batch: readonly AuditEvent[]): void {
    try {
      sink.process(batch);
    } catch {
      this.#metrics.error("sink", 1);
    }
  }

  /** @internal */
  now(): number {
    return this.#now();
  }
}

const disabledRecorder: AuditRecorder = Object.freeze({
  level: "None" as const,
  annotate: () => {},
  impersonate: () => {},
  setObjectRef: () => {},
  setRequestObject: () => {},
  responseStarted: () => {},
  complete: () => {},
  panic: () => {},
});

class Recorder implements AuditRecorder {
  readonly #auditor: Auditor;
  readonly #omitStages: readonly AuditStage[];
  readonly #omitManagedFields: boolean;
  readonly #longRunning: boolean;
  readonly #receivedAt: string;
  readonly #auditId: string;
  readonly #requestURI: string;
  readonly #verb: string;
  readonly #user: AuditUserInfo;
  readonly #sourceIPs: readonly string[];
  readonly #userAgent: string;
  readonly #tenantSink: AuditSink | undefined;
  #impersonatedUser: AuditUserInfo | undefined;
  #objectRef: AuditObjectRef | undefined;
  #responseStatus: AuditResponseStatus | undefined;
  #requestObject: unknown;
  #responseObject: unknown;
  #annotations: Record<string, string> | undefined;
  /** An event holds #annotations: the next annotate() copies them first. */
  #annotationsShared = false;
  #started = false;
  #done = false;

  constructor(
    req: Omit<AuditRequest, "user">,
    user: UserInfo | undefined,
    readonly level: AuditLevel,
    omitStages: readonly AuditStage[],
    omitManagedFields: boolean,
    auditor: Auditor,
  ) {
    this.#auditor = auditor;
    this.#omitStages = omitStages;
    this.#omitManagedFields = omitManagedFields;
    this.#longRunning = req.longRunning ?? req.info.verb === "watch";
    this.#receivedAt = formatMicroTime(req.receivedAtMicros ?? auditor.now());
    this.#auditId = req.auditId;
    this.#requestURI = req.requestURI;
    this.#verb = req.info.verb;
    this.#user = user === undefined ? {} : auditUser(user);
    this.#sourceIPs = req.sourceIPs;
    this.#userAgent = req.userAgent === undefined ? "" : truncateUserAgent(req.userAgent);
    this.#tenantSink = req.tenantSink;
    if (req.info.isResourceRequest) {
      this.#objectRef = compactRef({
        resource: req.info.resource,
        namespace: req.info.namespace,
        name: req.info.name,
        apiGroup: req.info.apiGroup,
        apiVersion: req.info.apiVersion,
        subresource: req.info.subresource,
      });
    }
    this.annotate(auditAnnotations.tenant, req.tenant);
  }

  annotate(key: string, value: string): void {
    if (this.#done) return;
    this.#annotations ??= {};
    // kube keeps the first value and warns about a different second one.
    if (key in this.#annotations) return;
    // Copied on the first change after an event took them (events share what they were sent with).
    if (this.#annotationsShared) {
      this.#annotations = { ...this.#annotations };
      this.#annotationsShared = false;
    }
    this.#annotations[key] = value;
  }

  impersonate(user: UserInfo): void {
    if (this.#done) return;
    this.#impersonatedUser = auditUser(user);
  }

  setObjectRef(ref: AuditObjectRef): void {
    if (this.#done) return;
    this.#objectRef = compactRef({ ...this.#objectRef, ...ref });
  }

  setRequestObject(obj: unknown): void {
    if (this.#done) return;
    const meta = metadataOf(obj);
    if (meta !== undefined) {
      // kube completes only the fields the URL did not give.
      const ref = this.#objectRef ?? {};
      this.#objectRef = compactRef({
        ...ref,
        namespace: ref.namespace ?? meta.namespace,
        name: ref.name ?? meta.name,
        uid: ref.uid ?? meta.uid,
        resourceVersion: ref.resourceVersion ?? meta.resourceVersion,
      });
    }
    if (levelAtLeast(this.level, "Request")) {
      this.#requestObject = snapshotObject(obj, this.#omitManagedFields);
    }
  }

  responseStarted(code = 200): void {
    if (this.#done || this.#started) return;
    this.#started = true;
    // Replaced, never changed: events already sent share it.
    this.#responseStatus = { ...this.#responseStatus, metadata: {}, code };
    if (this.#longRunning) this.emit("ResponseStarted");
  }

  complete(result: number | StatusLike, responseObject?: unknown): void {
    if (this.#done) return;
    const code = typeof result === "number" ? result : result.code;
    // A long-running request whose headers were never announced still gets its ResponseStarted.
    if (!this.#started) this.responseStarted(code);
    if (typeof result !== "number") {
      this.#responseStatus = boundedStatus(result);
    } else if (isStatusLike(responseObject)) {
      // A Status sent as the body (e.g. a delete's Success) is what responseStatus shows.
      this.#responseStatus = boundedStatus({ ...responseObject, code: responseObject.code || result });
    } else {
      this.#responseStatus = { ...this.#responseStatus, metadata: {}, code: result };
    }
    if (levelAtLeast(this.level, "RequestResponse")) {
      const body = responseObject ?? (typeof result === "number" ? undefined : result);
      if (body !== undefined) this.#responseObject = snapshotObject(body, this.#omitManagedFields);
    }
    this.emit("ResponseComplete");
    this.#done = true;
  }

  panic(err: unknown): void {
    if (this.#done) return;
    this.#responseStatus = {
      metadata: {},
      status: "Failure",
      message: `APIServer panic'd: ${err instanceof Error ? err.message : String(err)}`,
      reason: "InternalError",
      code: 500,
    };
    this.emit("Panic");
    this.#done = true;
  }

  /** @internal the one event of a request that failed authentication. */
  failAuthentication(message: string): void {
    this.#responseStatus = { metadata: {}, message, code: 401 };
    this.emit("ResponseStarted");
    this.#done = true;
  }

  /** @internal builds the event of one stage (a fresh object: sinks may hold it) and sends it. */
  emit(stage: AuditStage): void {
    if (this.#omitStages.includes(stage)) return;
    // Built field by field so that the JSON has kube's order; the timestamps come after the objects.
    const ev = {
      kind: "Event",
      apiVersion: auditApiVersion,
      level: this.level,
      auditID: this.#auditId,
      stage,
      requestURI: this.#requestURI,
      verb: this.#verb,
      user: this.#user,
    } as AuditEvent;
    // Optional fields are added in kube's order, only when set (Go's omitempty).
    if (this.#impersonatedUser !== undefined) ev.impersonatedUser = this.#impersonatedUser;
    // Shared, not copied: the recorder replaces these fields and never changes them in place.
    if (this.#sourceIPs.length > 0) ev.sourceIPs = this.#sourceIPs as string[];
    if (this.#userAgent !== "") ev.userAgent = this.#userAgent;
    if (this.#objectRef !== undefined) ev.objectRef = this.#objectRef;
    if (this.#responseStatus !== undefined) ev.responseStatus = this.#responseStatus;
    if (this.#requestObject !== undefined) ev.requestObject = this.#requestObject;
    if (this.#responseObject !== undefined) ev.responseObject = this.#responseObject;
    ev.requestReceivedTimestamp = this.#receivedAt;
    ev.stageTimestamp = stage === "RequestReceived" ? this.#receivedAt : formatMicroTime(this.#auditor.now());
    if (this.#annotations !== undefined) {
      ev.annotations = this.#annotations;
      this.#annotationsShared = true;
    }
    this.#auditor.send(ev, this.#tenantSink);
  }
}

type RefFields = { [K in keyof AuditObjectRef]?: string | undefined };

function compactRef(ref: RefFields): AuditObjectRef {
  const out: AuditObjectRef = {};
  for (const k of [
    "resource",
    "namespace",
    "name",
    "uid",
    "apiGroup",
    "apiVersion",
    "resourceVersion",
    "subresource",
  ] as const) {
    const v = ref[k];
    if (v !== undefined && v !== "") out[k] = v;
  }
  return out;
}

interface ObjectMetaFields {
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

function metadataOf(obj: unknown): ObjectMetaFields | undefined {
  if (typeof obj !== "object" || obj === null || Buffer.isBuffer(obj)) return undefined;
  const meta = (obj as { metadata?: unknown }).metadata;
  if (typeof meta !== "object" || meta === null) return undefined;
  const m = meta as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const out: ObjectMetaFields = {};
  const namespace = str(m["namespace"]);
  const name = str(m["name"]);
  const uid = str(m["uid"]);
  const resourceVersion = str(m["resourceVersion"]);
  if (namespace !== undefined) out.namespace = namespace;
  if (name !== undefined) out.name = name;
  if (uid !== undefined) out.uid = uid;
  if (resourceVersion !== undefined) out.resourceVersion = resourceVersion;
  return out;
}
