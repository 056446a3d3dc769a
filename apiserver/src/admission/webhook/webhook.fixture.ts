// Test fixture for the webhook plugins: real HTTPS webhook servers (certificates from the
// server's PKI) that record what they receive, a real tenant instance on the embedded storage
// holding the webhook configurations, and admission attributes for a write.

import "reflect-metadata";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { openFixture, storeOf, type Fixture } from "../../controllers/tenant.fixture.ts";
import type { KubeObject } from "../../registry/printers.ts";
import { generateCA, issueCertificate, type CertKeyPair } from "../../server/pki.ts";
import type { TenantInstance } from "../../tenancy/instance.ts";
import type { AdmissionAttributes, GroupVersionKind, GroupVersionResource, Operation } from "../interface.ts";

/** What a webhook server received: the review's request and the query string. */
export interface Received {
  readonly request: Record<string, unknown> & { uid: string; operation: string; object: KubeObject | null };
  readonly review: Record<string, unknown>;
  readonly query: URLSearchParams;
  readonly path: string;
}

/** A reply that is sent as is (status code, body), not wrapped in an AdmissionReview. */
export class RawReply {
  constructor(
    readonly code: number,
    readonly body: string,
    readonly contentType = "application/json",
  ) {}
}

/** The `response` of an AdmissionReview (uid filled in when absent), or a RawReply. */
export type Reply = Record<string, unknown> | RawReply;
export type Handler = (r: Received) => Reply | Promise<Reply>;

export interface WebhookServer {
  /** `https://127.0.0.1:<port>/<path>`. */
  url(path: string): string;
  readonly caBundle: string;
  /** Every review received, in arrival order. */
  readonly received: Received[];
  /** The reviews received on one path. */
  on(path: string): Received[];
  close(): Promise<void>;
}

export interface PKI {
  readonly ca: CertKeyPair;
  readonly serving: CertKeyPair;
  readonly caBundle: string;
}

export async function makePKI(): Promise<PKI> {
  const ca = await generateCA("webhook-test-ca");
  const serving = await issueCertificate(ca, {
    commonName: "webhook",
    hosts: ["127.0.0.1", "localhost"],
    usage: "server",
  });
  return { ca, serving, caBundle: Buffer.from(ca.certPem).toString("base64") };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts an HTTPS webhook server; `handlers` by path, anything else answers allowed. */
export async function startWebhookServer(
  pki: PKI,
  handlers: Record<string, Handler>,
): Promise<WebhookServer> {
  const received: Received[] = [];
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    const url = new URL(req.url ?? "/", "https://localhost");
    const r: Received = {
      request: review["request"] as Received["request"],
      review,
      query: url.searchParams,
      path: url.pathname,
    };
    received.push(r);
    const reply = await (handlers[url.pathname] ?? (() => ({ allowed: true })))(r);
    if (res.destroyed) return;
    if (reply instanceof RawReply) {
      res.writeHead(reply.code, { "Content-Type": reply.contentType });
      res.end(reply.body);
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        apiVersion: review["apiVersion"],
        kind: "AdmissionReview",
        response: { uid: r.request.uid, ...reply },
      }),
    );
  };
  const server: Server = createServer({ cert: pki.serving.certPem, key: pki.serving.keyPem }, (req, res) => {
    serve(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `https://127.0.0.1:${port}${path}`,
    caBundle: pki.caBundle,
    received,
    on: (path) => received.filter((r) => r.path === path),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(pki: PKI): Promise<number> {
  const s = await startWebhookServer(pki, {});
  const port = Number(new URL(s.url("/")).port);
  await s.close();
  return port;
}

/** A JSON patch as a webhook answers it. */
export const jsonPatch = (ops: unknown[]): Record<string, unknown> => ({
  allowed: true,
  patchType: "JSONPatch",
  patch: Buffer.from(JSON.stringify(ops)).toString("base64"),
});

/** One webhook of a configuration, with what validation requires filled in. */
export function hook(
  name: string,
  url: string,
  caBundle: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    clientConfig: { url, caBundle },
    rules: [
      { operations: ["CREATE", "UPDATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["configmaps"] },
    ],
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    ...extra,
  };
}

export interface Tenants {
  readonly fx: Fixture;
  /** A fresh tenant instance: its own webhooks, namespaces and objects. */
  tenant(): Promise<TenantInstance>;
  close(): Promise<void>;
}

export async function openTenants(): Promise<Tenants> {
  const fx = await openFixture();
  return {
    fx,
    tenant: () => fx.start({ name: `t-${randomUUID().slice(0, 8)}`, uid: randomUUID() }),
    close: () => fx.close(),
  };
}

const write = { dryRun: false };

/** Writes a webhook configuration through the store (validated, defaulted) and waits for the cache. */
export async function configure(
  t: TenantInstance,
  type: "mutating" | "validating",
  name: string,
  webhooks: Record<string, unknown>[],
): Promise<void> {
  const kind = type === "mutating" ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration";
  await storeOf(t, `${kind.toLowerCase()}s.admissionregistration.k8s.io`).create(
    { apiVersion: "admissionregistration.k8s.io/v1", kind, metadata: { name }, webhooks },
    "",
    write,
  );
  await t.cache.consistent();
}

/**
 * Writes a webhook configuration straight to storage, past validation: what a configuration
 * stored through admissionregistration/v1beta1 (sideEffects Some or Unknown, or none) looks like.
 */
export async function configureStored(
  t: TenantInstance,
  type: "mutating" | "validating",
  name: string,
  webhooks: Record<string, unknown>[],
): Promise<void> {
  const kind = type === "mutating" ? "MutatingWebhookConfiguration" : "ValidatingWebhookConfiguration";
  const key = t.key(
    { group: "admissionregistration.k8s.io", plural: `${type}webhookconfigurations` },
    undefined,
    name,
  );
  const obj = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind,
    metadata: { name, uid: randomUUID() },
    webhooks,
  };
  await t.storage.create(key, Buffer.from(JSON.stringify(obj)));
  await t.cache.consistent();
}

export async function removeConfiguration(
  t: TenantInstance,
  type: "mutating" | "validating",
  name: string,
): Promise<void> {
  await storeOf(t, `${type}webhookconfigurations.admissionregistration.k8s.io`).delete("", name, write);
  await t.cache.consistent();
}

export async function namespace(
  t: TenantInstance,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await storeOf(t, "namespaces").create({ metadata: { name, labels } }, "", write);
  await t.cache.consistent();
}

export const testUser = {
  name: "alice",
  uid: "u-1",
  groups: ["devs", "system:authenticated"],
  extra: { scopes: ["a"] },
} as const;

export interface WriteSpec {
  operation?: Operation;
  kind?: GroupVersionKind;
  resource?: GroupVersionResource;
  subresource?: string;
  namespace?: string;
  name?: string;
  object?: KubeObject | undefined;
  oldObject?: KubeObject;
  dryRun?: boolean;
  options?: Record<string, unknown>;
}

/** The attributes of a write; by default a CREATE of ConfigMap `cm` in `default`. */
export function attrs(t: TenantInstance, w: WriteSpec = {}): AdmissionAttributes {
  const name = w.name ?? "cm";
  const namespace = w.namespace ?? "default";
  const operation = w.operation ?? "CREATE";
  return {
    instance: t,
    user: testUser,
    operation,
    kind: w.kind ?? { group: "", version: "v1", kind: "ConfigMap" },
    resource: w.resource ?? { group: "", version: "v1", resource: "configmaps" },
    subresource: w.subresource ?? "",
    namespace,
    name,
    object:
      "object" in w
        ? w.object
        : operation === "DELETE"
          ? undefined
          : { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: { k: "v" } },
    oldObject: w.oldObject,
    options: w.options ?? { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    dryRun: w.dryRun ?? false,
    warnings: [],
    auditAnnotations: {},
  };
}
