// The shard's metrics: a prom-client Registry of its own (never the global one) holding
// kube-apiserver's series under kube's names, labels, buckets and help texts (endpoints/
// metrics, endpoints/filters, authorization/metrics, admission/metrics, audit/metrics.go),
// plus one Multiplane series per tenant for a bounded top-N only. Recording helpers are
// cheap and never throw; render() is what GET /metrics answers.

import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AuditLevel } from "../audit/policy.ts";
import type { AuditMetrics } from "../audit/sink.ts";
import { dryRunLabel, requestLabels, type RequestLabelInput } from "./request-labels.ts";
import { TopTenants, type Rebalance } from "./tenant-top.ts";

/** Buckets of apiserver_request_duration_seconds (kube's, tuned for the latency SLO). */
export const requestDurationBuckets = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
];
/** ExponentialBuckets(0.001, 2, 15): authentication and authorization durations. */
export const authDurationBuckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
export const admissionStepBuckets = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5];
export const admissionWebhookBuckets = [0.005, 0.025, 0.1, 0.5, 1.0, 2.5, 10, 25];

const requestLabelNames = [
  "verb",
  "dry_run",
  "group",
  "version",
  "resource",
  "subresource",
  "scope",
  "component",
] as const;
const longRunningLabelNames = [
  "verb",
  "group",
  "version",
  "resource",
  "subresource",
  "scope",
  "component",
] as const;

export type InflightKind = "readOnly" | "mutating";
export type AuthenticationResult = "success" | "failure" | "error";
export type AuthorizationResult = "allowed" | "denied" | "no-opinion" | "error";
export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
/** Admission step type: the mutating phase is "admit", the validating one "validate". */
export type AdmissionStepType = "admit" | "validate";
/** Admission webhook type, as kube's dispatchers label them. */
export type AdmissionWebhookType = "admit" | "validating";
export type WebhookRejectionErrorType = "calling_webhook_error" | "apiserver_internal_error" | "no_error";

/** One finished request, as the chain reports it after the response (position 9). */
export interface RequestRecord extends RequestLabelInput {
  readonly code: number;
  readonly durationSeconds: number;
  /** The tenant's name; counted in multiplane_tenant_requests_total under the top-N rule. */
  readonly tenant?: string;
}

export interface ApiserverMetricsOptions {
  /** Tenants with their own series in multiplane_tenant_requests_total (default 20). */
  readonly topTenants?: number;
  /** How often the busiest tenants are re-chosen (default 60 s). */
  readonly tenantWindowMs?: number;
  /** Milliseconds clock (tests). */
  readonly now?: () => number;
}

/** kube's in-flight gauge reports the highest count seen in about the last second. */
class Watermark {
  #current = 0;
  #max = 0;
  #previousMax = 0;
  #windowStart: number;
  constructor(private readonly now: () => number) {
    this.#windowStart = now();
  }
  #roll(): void {
    const t = this.now();
    const elapsed = t - this.#windowStart;
    if (elapsed < 1000) return;
    this.#previousMax = elapsed < 2000 ? this.#max : this.#current;
    this.#max = this.#current;
    this.#windowStart = t;
  }
  add(delta: number): void {
    this.#roll();
    this.#current += delta;
    if (this.#current > this.#max) this.#max = this.#current;
  }
  value(): number {
    this.#roll();
    return Math.max(this.#previousMax, this.#max);
  }
  get current(): number {
    return this.#current;
  }
}

/**
 * The metrics of one process. Built once by the server; the chain calls the record helpers,
 * the audit sinks and recorder use `audit`, GET /metrics calls `render`.
 */
export class ApiserverMetrics {
  readonly registry = new Registry();
  readonly audit: AuditMetrics;

  readonly #now: () => number;
  readonly #tenants: TopTenants;
  readonly #requestTotal;
  readonly #requestDuration;
  readonly #longRunning;
  readonly #inflight: Record<InflightKind, Watermark>;
  readonly #authnAttempts;
  readonly #authnDuration;
  readonly #authzAttempts;
  readonly #authzDuration;
  readonly #authzDecisions;
  readonly #admissionStep;
  readonly #admissionWebhook;
  readonly #admissionWebhookRequests;
  readonly #admissionWebhookRejections;
  readonly #tenantRequests;

  constructor(opts: ApiserverMetricsOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#tenants = new TopTenants({
      ...(opts.topTenants !== undefined ? { limit: opts.topTenants } : {}),
      ...(opts.tenantWindowMs !== undefined ? { windowMs: opts.tenantWindowMs } : {}),
      now: this.#now,
    });
    const registers = [this.registry];

    this.#requestTotal = new Counter({
      name: "apiserver_request_total",
      help: "[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
      labelNames: [...requestLabelNames, "code"] as const,
      registers,
    });
    this.#requestDuration = new Histogram({
      name: "apiserver_request_duration_seconds",
      help: "[STABLE] Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
      labelNames: requestLabelNames,
      buckets: requestDurationBuckets,
      registers,
    });
    this.#longRunning = new Gauge({
      name: "apiserver_longrunning_requests",
      help: "[STABLE] Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.",
      labelNames: longRunningLabelNames,
      registers,
    });
    const inflight: Record<InflightKind, Watermark> = {
      readOnly: new Watermark(this.#now),
      mutating: new Watermark(this.#now),
    };
    this.#inflight = inflight;
    new Gauge({
      name: "apiserver_current_inflight_requests",
      help: "[STABLE] Maximal number of currently used inflight request limit of this apiserver per request kind in last second.",
      labelNames: ["request_kind"] as const,
      registers,
      collect() {
        this.set({ request_kind: "readOnly" }, inflight.readOnly.value());
        this.set({ request_kind: "mutating" }, inflight.mutating.value());
      },
    });

    this.#authnAttempts = new Counter({
      name: "authentication_attempts",
      help: "[ALPHA] Counter of authenticated attempts.",
      labelNames: ["result"] as const,
      registers,
    });
    this.#authnDuration = new Histogram({
      name: "authentication_duration_seconds",
      help: "[ALPHA] Authentication duration in seconds broken out by result.",
      labelNames: ["result"] as const,
      buckets: authDurationBuckets,
      registers,
    });
    this.#authzAttempts = new Counter({
      name: "authorization_attempts_total",
      help: "[ALPHA] Counter of authorization attempts broken down by result. It can be either 'allowed', 'denied', 'no-opinion' or 'error'.",
      labelNames: ["result"] as const,
      registers,
    });
    this.#authzDuration = new Histogram({
      name: "authorization_duration_seconds",
      help: "[ALPHA] Authorization duration in seconds broken out by result.",
      labelNames: ["result"] as const,
      buckets: authDurationBuckets,
      registers,
    });
    this.#authzDecisions = new Counter({
      name: "apiserver_authorization_decisions_total",
      help: "[ALPHA] Total number of terminal decisions made by an authorizer split by authorizer type, name, and decision.",
      labelNames: ["type", "name", "decision"] as const,
      registers,
    });

    this.#admissionStep = new Histogram({
      name: "apiserver_admission_step_admission_duration_seconds",
      help: "[STABLE] Admission sub-step latency histogram in seconds, broken out for each operation and API resource and step type (validate or admit).",
      labelNames: ["type", "operation", "rejected"] as const,
      buckets: admissionStepBuckets,
      registers,
    });
    this.#admissionWebhook = new Histogram({
      name: "apiserver_admission_webhook_admission_duration_seconds",
      help: "[STABLE] Admission webhook latency histogram in seconds, identified by name and broken out for each operation and API resource and type (validate or admit).",
      labelNames: ["name", "type", "operation", "rejected"] as const,
      buckets: admissionWebhookBuckets,
      registers,
    });
    this.#admissionWebhookRequests = new Counter({
      name: "apiserver_admission_webhook_request_total",
      help: "[ALPHA] Admission webhook request total, identified by name and broken out for each admission type (validating or mutating) and operation. Additional labels specify whether the request was rejected or not and an HTTP status code. Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded.",
      labelNames: ["name", "type", "operation", "code", "rejected"] as const,
      registers,
    });
    this.#admissionWebhookRejections = new Counter({
      name: "apiserver_admission_webhook_rejection_count",
      help: "[ALPHA] Admission webhook rejection count, identified by name and broken out for each admission type (validating or admit) and operation. Additional labels specify an error type (calling_webhook_error or apiserver_internal_error if an error occurred; no_error otherwise) and optionally a non-zero rejection code if the webhook rejects the request with an HTTP status code (honored by the apiserver when the code is greater or equal to 400). Codes greater than 600 are truncated to 600, to keep the metrics cardinality bounded.",
      labelNames: ["name", "type", "operation", "error_type", "rejection_code"] as const,
      registers,
    });

    const auditEvents = new Counter({
      name: "apiserver_audit_event_total",
      help: "[ALPHA] Counter of audit events generated and sent to the audit backend.",
      registers,
    });
    const auditErrors = new Counter({
      name: "apiserver_audit_error_total",
      help: "[ALPHA] Counter of audit events that failed to be audited properly. Plugin identifies the plugin affected by the error.",
      labelNames: ["plugin"] as const,
      registers,
    });
    const auditLevels = new Counter({
      name: "apiserver_audit_level_total",
      help: "[ALPHA] Counter of policy levels for audit events (1 per request).",
      labelNames: ["level"] as const,
      registers,
    });
    this.audit = {
      event: () => auditEvents.inc(),
      level: (level: AuditLevel) => auditLevels.inc({ level }),
      error: (plugin: string, count: number) => {
        if (count > 0) auditErrors.inc({ plugin }, count);
      },
    };

    this.#tenantRequests = new Counter({
      name: "multiplane_tenant_requests_total",
      help: `Counter of requests per tenant, for the ${this.#tenants.limit} busiest tenants of the last window; all others are counted under tenant="other".`,
      labelNames: ["tenant"] as const,
      registers,
    });
  }

  /** One finished request: apiserver_request_total, its duration, and the tenant counter. */
  recordRequest(r: RequestRecord): void {
    const labels = { ...requestLabels(r), dry_run: dryRunLabel(r.query) };
    this.#requestTotal.inc({ ...labels, code: String(r.code) });
    this.#requestDuration.observe(labels, r.durationSeconds);
    if (r.tenant !== undefined) {
      this.#applyRebalance(this.#tenants.maybeRebalance());
      this.#tenantRequests.inc({ tenant: this.#tenants.labelFor(r.tenant) });
    }
  }

  /** A request entered the in-flight set (fairness stage); call the answer once when it leaves. */
  inflight(kind: InflightKind): () => void {
    const w = this.#inflight[kind];
    w.add(1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      w.add(-1);
    };
  }

  /** Requests in flight right now (not the per-second watermark the gauge shows). */
  inflightNow(kind: InflightKind): number {
    return this.#inflight[kind].current;
  }

  /** A long-running request (a watch) started; call the answer once when it ends. */
  longRunning(input: RequestLabelInput): () => void {
    const labels = requestLabels(input);
    this.#longRunning.inc(labels);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#longRunning.dec(labels);
    };
  }

  /** The authentication stage: success (a user), failure (no authenticator knew it), error (one broke). */
  recordAuthentication(result: AuthenticationResult, durationSeconds: number): void {
    this.#authnAttempts.inc({ result });
    this.#authnDuration.observe({ result }, durationSeconds);
  }

  /** The authorization stage's overall answer. */
  recordAuthorization(result: AuthorizationResult, durationSeconds: number): void {
    this.#authzAttempts.inc({ result });
    this.#authzDuration.observe({ result }, durationSeconds);
  }

  /** A terminal decision of one authorizer of the union (NoOpinion is not terminal: not recorded). */
  recordAuthorizerDecision(d: { type: string; name: string; decision: "allowed" | "denied" }): void {
    this.#authzDecisions.inc(d);
  }

  /** The whole mutating (admit) or validating (validate) phase of admission. */
  recordAdmissionStep(s: {
    type: AdmissionStepType;
    operation: AdmissionOperation;
    rejected: boolean;
    durationSeconds: number;
  }): void {
    this.#admissionStep.observe(
      { type: s.type, operation: s.operation, rejected: String(s.rejected) },
      s.durationSeconds,
    );
  }

  /** One admission webhook call: its duration and its request count by HTTP code. */
  recordAdmissionWebhook(w: {
    name: string;
    type: AdmissionWebhookType;
    operation: AdmissionOperation;
    rejected: boolean;
    durationSeconds: number;
    /** The webhook's HTTP status (0 when it could not be called). */
    code: number;
  }): void {
    const rejected = String(w.rejected);
    this.#admissionWebhook.observe(
      { name: w.name, type: w.type, operation: w.operation, rejected },
      w.durationSeconds,
    );
    this.#admissionWebhookRequests.inc({
      name: w.name,
      type: w.type,
      operation: w.operation,
      code: String(Math.min(w.code, 600)),
      rejected,
    });
  }

  /** An admission webhook rejected a request, or failed closed. */
  recordAdmissionWebhookRejection(r: {
    name: string;
    type: AdmissionWebhookType;
    operation: AdmissionOperation;
    errorType: WebhookRejectionErrorType;
    rejectionCode: number;
  }): void {
    this.#admissionWebhookRejections.inc({
      name: r.name,
      type: r.type,
      operation: r.operation,
      error_type: r.errorType,
      rejection_code: String(Math.min(r.rejectionCode, 600)),
    });
  }

  /** The tenant is gone: its series is dropped (the tenancy layer calls this on deletion). */
  forgetTenant(name: string): void {
    if (this.#tenants.forget(name)) this.#tenantRequests.remove({ tenant: name });
  }

  /** The text exposition for GET /metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    this.#applyRebalance(this.#tenants.maybeRebalance());
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Re-chooses the labelled tenants now (tests; the window does it by itself). */
  rebalanceTenants(): void {
    this.#applyRebalance(this.#tenants.rebalance());
  }

  #applyRebalance(r: Rebalance): void {
    for (const t of r.removed) this.#tenantRequests.remove({ tenant: t });
  }
}
