// The webhook authorizer (kube's --authorization-webhook-config-file): each request not decided
// before it is sent as a SubjectAccessReview (authorization.k8s.io/v1) over HTTPS to the
// tenant's configured service; answers are cached (allowed and denied with their own TTLs).

import { createHash } from "node:crypto";
import { request as httpsRequest } from "node:https";
import { direct } from "../request/outbound.ts";
import { allow, deny, noOpinion } from "./authorizer.ts";
import type { Attributes, Authorizer, Decision } from "./authorizer.ts";

export interface WebhookAuthorizerConfig {
  /** https URL the SubjectAccessReviews are POSTed to. */
  readonly url: string;
  /** PEM bundle trusted for the webhook's serving certificate; Node's default roots when absent. */
  readonly caPem?: string;
  /** Optional client certificate and key (PEM) the webhook may require. */
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** kube's defaults: 5 minutes for allowed answers, 30 seconds for the rest. */
  readonly authorizedTTLms?: number;
  readonly unauthorizedTTLms?: number;
  /** How long one review may take; default 30 s (kube's webhook timeout). */
  readonly timeoutMs?: number;
  /** Upper bound on cached answers (oldest evicted first); default 10,000. */
  readonly cacheSize?: number;
}

interface SARStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** The SubjectAccessReview kube sends for a request's attributes. */
export function subjectAccessReview(a: Attributes): Record<string, unknown> {
  const spec: Record<string, unknown> = {
    user: a.user.name,
    ...(a.user.uid !== "" ? { uid: a.user.uid } : {}),
    ...(a.user.groups.length > 0 ? { groups: a.user.groups } : {}),
    ...(Object.keys(a.user.extra).length > 0 ? { extra: a.user.extra } : {}),
  };
  if (a.isResourceRequest) {
    spec["resourceAttributes"] = {
      namespace: a.namespace,
      verb: a.verb,
      group: a.apiGroup,
      version: a.apiVersion,
      resource: a.resource,
      subresource: a.subresource,
      name: a.name,
    };
  } else {
    spec["nonResourceAttributes"] = { path: a.path, verb: a.verb };
  }
  return { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", metadata: {}, spec };
}

/**
 * Asks the webhook; Allow, Deny or NoOpinion as its status says. A transport error, a non-2xx
 * answer or an unreadable body throws (the chain answers 500). Called by the tenant's union
 * authorizer; never changes its input.
 */
export class WebhookAuthorizer implements Authorizer {
  private readonly cache = new Map<string, { decision: Decision; expires: number }>();

  constructor(private readonly config: WebhookAuthorizerConfig) {
    if (!config.url.startsWith("https://")) throw new Error("authorization webhook: the URL must be https");
  }

  /** How many reviews were sent (not answered from the cache), for tests and metrics. */
  calls = 0;

  async authorize(a: Attributes): Promise<Decision> {
    const review = subjectAccessReview(a);
    const body = JSON.stringify(review);
    const key = createHash("sha256").update(body).digest("base64url");
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.expires > now) return hit.decision;
    this.calls++;
    const answer = await (a.outbound ?? direct)(() => this.post(body));
    const status = (answer["status"] ?? {}) as SARStatus;
    const reason = status.reason ?? "";
    const decision =
      status.allowed === true ? allow(reason) : status.denied === true ? deny(reason) : noOpinion(reason);
    const ttl =
      decision.decision === "Allow"
        ? (this.config.authorizedTTLms ?? 5 * 60_000)
        : (this.config.unauthorizedTTLms ?? 30_000);
    if (ttl > 0) {
      this.cache.delete(key);
      this.cache.set(key, { decision, expires: now + ttl });
      const max = this.config.cacheSize ?? 10_000;
      if (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
    }
    return decision;
  }

  private post(body: string): Promise<Record<string, unknown>> {
    const { url, caPem, clientCertPem, clientKeyPem } = this.config;
    const timeout = this.config.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method: "POST",
          ...(caPem !== undefined ? { ca: caPem } : {}),
          ...(clientCertPem !== undefined ? { cert: clientCertPem } : {}),
          ...(clientKeyPem !== undefined ? { key: clientKeyPem } : {}),
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          timeout,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
              reject(new Error(`authorization webhook answered ${res.statusCode}: ${text.slice(0, 200)}`));
              return;
            }
            try {
              resolve(JSON.parse(text) as Record<string, unknown>);
            } catch {
              reject(new Error("authorization webhook: the answer is not a SubjectAccessReview"));
            }
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`authorization webhook: no answer within ${timeout} ms`)),
      );
      req.on("error", reject);
      req.end(body);
    });
  }
}
