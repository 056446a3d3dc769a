// `multiplane up`: everything in one process for a laptop or CI — storage (embedded by
// default, or etcd), the root control plane (with the platform's CRDs from crds/), its API
// server, the ControlPlane registry that serves a tenant per ControlPlane — and an admin
// kubeconfig.

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { parseTokenFile } from "../authn/token-file.authenticator.ts";
import { JwtKeySet, parsePemBundle, type JwtIssuer } from "../authn/index.ts";
import { buildAuthenticator } from "../server/authentication.ts";
import {
  Auditor,
  logSink,
  parseAuditPolicy,
  unionSink,
  WebhookSink,
  type AuditSink,
} from "../audit/index.ts";
import { ApiserverMetrics } from "../metrics/index.ts";
import { buildKubeconfig } from "../server/kubeconfig.ts";
import { ensureServingPKI } from "../server/pki.ts";
import { startServer, type RunningServer, type ServerOptions } from "../server/server.ts";
import type { ShardFairnessOptions } from "../server/fairness.ts";
import { openStorage } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import { platformCRDsDir, readCRDs, installCRDs } from "../registry/crd/crd.installer.ts";
import { ControlPlaneRegistry } from "../tenancy/controlplane.registry.ts";
import { rootTenant, TenantManager } from "../tenancy/instance.ts";
import { startInProcessOperator } from "../../../operator/src/operator.ts";

export interface UpOptions {
  dataDir: string;
  host: string;
  port: number;
  etcdEndpoints?: string[];
  /** Write logs (JSON lines) here; default stderr. */
  quiet?: boolean;
  /** The `iss` of the tokens the server issues (kube's --service-account-issuer). */
  serviceAccountIssuer?: string;
  /** Audit log (JSON lines); default `<dataDir>/audit.log`, "-" for stdout. */
  auditLogPath?: string;
  /** An audit.k8s.io/v1 Policy (YAML or JSON) for every tenant; default: Metadata for all but health checks. */
  auditPolicy?: string;
  /** An audit webhook sink (the platform's, besides the log). */
  auditWebhook?: {
    url: string;
    caPem?: string;
    bufferSize?: number;
    initialBackoffMs?: number;
    maxBatchWaitMs?: number;
  };
  /** Tuning of each tenant's own audit webhook sink (its ControlPlane's spec.policy.audit.webhook). */
  tenantAuditWebhook?: ServerOptions["tenantAuditWebhook"];
  /** A tenant instance unused this long is stopped and dropped (default 10 minutes). */
  tenantIdleTimeoutMs?: number;
  /** This shard's name, written to each ControlPlane's status.shard (default "local"). */
  shard?: string;
  /** Per-tenant in-flight limit (a tenant's policy overrides it; default 64) and queue. */
  fairness?: ShardFairnessOptions;
  /** The least time between two writes of a tenant's ControlPlane status.usage (default 5 s). */
  usageIntervalMs?: number;
  /** Run the Organization/Project operator in process (default true; false for tests of `multiplane operator`). */
  operator?: boolean;
}

/** The issuer when none is given and the port is chosen at listen time. */
const defaultIssuer = "https://multiplane.local";

/** The client certificate CNs the router may present (kube's --requestheader-allowed-names). */
export const requestHeaderAllowedNames = ["multiplane-router"];

const hostPort = (host: string, port: number): string => `${host.includes(":") ? `[${host}]` : host}:${port}`;

export interface Multiplane {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly tenants: TenantManager;
  /** Keeps `tenants` in step with the root tenant's ControlPlanes. */
  readonly registry: ControlPlaneRegistry;
  readonly storage: Storage;
  stop(): Promise<void>;
}

/** The admin token file: created once with a random token for `admin` in system:masters. */
async function ensureTokenFile(path: string): Promise<string> {
  if (!existsSync(path)) {
    const token = randomBytes(24).toString("base64url");
    await writeFile(path, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  }
  return readFile(path, "utf8");
}

export async function up(opts: UpOptions): Promise<Multiplane> {
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log = pino(
    { level: opts.quiet ? "warn" : "info", redact: ["req.headers.authorization", "token"] },
    pino.destination(2),
  );
  const pki = await ensureServingPKI(join(dataDir, "pki"), ["127.0.0.1", "localhost", "::1", opts.host]);
  const tokensText = await ensureTokenFile(join(dataDir, "tokens.csv"));
  const tokens = parseTokenFile(tokensText);
  const storage = openStorage(
    opts.etcdEndpoints && opts.etcdEndpoints.length > 0
      ? { kind: "etcd", endpoints: opts.etcdEndpoints }
      : { kind: "embedded", path: join(dataDir, "state.db") },
  );
  // Tenant JWTs and ServiceAccount tokens: one key set, kept in the data directory.
  const issuer: JwtIssuer = {
    url:
      opts.serviceAccountIssuer ??
      (opts.port === 0 ? defaultIssuer : `https://${hostPort(opts.host, opts.port)}`),
    keys: await JwtKeySet.load(join(dataDir, "jwt")),
  };
  const metrics = new ApiserverMetrics();
  const tenants = new TenantManager(
    storage,
    { issuer, caPem: pki.ca.certPem },
    (step) => metrics.recordAdmissionStep(step),
    opts.tenantIdleTimeoutMs !== undefined ? { idleTimeoutMs: opts.tenantIdleTimeoutMs } : {},
  );
  const sinks: AuditSink[] = [
    logSink({ path: opts.auditLogPath ?? join(dataDir, "audit.log"), metrics: metrics.audit }),
  ];
  if (opts.auditWebhook !== undefined) {
    sinks.push(
      new WebhookSink({
        url: opts.auditWebhook.url,
        ...(opts.auditWebhook.caPem !== undefined ? { ca: opts.auditWebhook.caPem } : {}),
        ...(opts.auditWebhook.bufferSize !== undefined ? { bufferSize: opts.auditWebhook.bufferSize } : {}),
        ...(opts.auditWebhook.initialBackoffMs !== undefined
          ? { initialBackoffMs: opts.auditWebhook.initialBackoffMs }
          : {}),
        ...(opts.auditWebhook.maxBatchWaitMs !== undefined
          ? { maxBatchWaitMs: opts.auditWebhook.maxBatchWaitMs }
          : {}),
        metrics: metrics.audit,
        log,
      }),
    );
  }
  const auditSink = unionSink(...sinks);
  const auditor = new Auditor({ sink: auditSink, metrics: metrics.audit });
  const auditPolicy = opts.auditPolicy === undefined ? undefined : parseAuditPolicy(opts.auditPolicy);
  let server: RunningServer;
  let registry: ControlPlaneRegistry | undefined;
  try {
    // The root tenant is always served: build it, with the platform's CRDs Established, before
    // accepting requests.
    const root = await tenants.instance(rootTenant);
    await installCRDs(root, await readCRDs(platformCRDsDir));
    server = await startServer({
      host: opts.host,
      port: opts.port,
      pki,
      tenants,
      authenticator: buildAuthenticator({
        tenants,
        tokens,
        issuer,
        clientCAs: parsePemBundle(pki.ca.certPem),
        oidcIssuers: (tenant) => tenant.policy?.oidcIssuers ?? [],
        requestHeader: {
          clientCA: parsePemBundle(pki.requestHeaderCA.certPem),
          allowedNames: requestHeaderAllowedNames,
        },
      }),
      issuer,
      auditor,
      auditPolicy: (tenant) => tenant.policy?.auditPolicy ?? auditPolicy,
      ...(opts.tenantAuditWebhook !== undefined ? { tenantAuditWebhook: opts.tenantAuditWebhook } : {}),
      metrics,
      ...(opts.fairness !== undefined ? { fairness: opts.fairness } : {}),
      log,
    });
    // Tenants come from the root tenant's ControlPlanes; endpoints name this server.
    registry = new ControlPlaneRegistry({
      tenants,
      storage,
      shard: opts.shard ?? "local",
      serverURL: server.url,
      log,
      ...(opts.usageIntervalMs !== undefined ? { usageIntervalMs: opts.usageIntervalMs } : {}),
    });
    await registry.start();
  } catch (err) {
    await registry?.stop();
    await tenants.close();
    await storage.close();
    await auditSink.close();
    throw err;
  }
  const [adminToken] = [...tokens.entries()].find(([, u]) => u.groups.includes("system:masters")) ?? [];
  const kubeconfigPath = join(dataDir, "admin.kubeconfig");
  await writeFile(
    kubeconfigPath,
    buildKubeconfig({
      name: "multiplane",
      server: server.url,
      caPem: pki.ca.certPem,
      token: adminToken ?? "",
      user: "admin",
    }),
    { mode: 0o600 },
  );
  // The operator, in process, against this root (host and Multiplane alike) as the admin.
  const operator = await (
    opts.operator === false
      ? Promise.resolve({ stop: () => Promise.resolve() })
      : startInProcessOperator({ kubeconfigPath, dataDir, issuer, log })
  ).catch(async (err: unknown) => {
    await Promise.all([server.close(), registry.stop()]);
    await tenants.close();
    await storage.close();
    await auditSink.close();
    throw err;
  });
  log.info({ url: server.url, kubeconfig: kubeconfigPath }, "multiplane is up");
  return {
    url: server.url,
    kubeconfigPath,
    tenants,
    registry,
    storage,
    stop: async () => {
      await operator.stop();
      await server.close();
      await registry.stop();
      await tenants.close();
      await storage.close();
      await auditSink.close();
    },
  };
}

/** A Go-style duration of one unit (`90s`, `10m`, `1h`, `500ms`) in milliseconds; throws otherwise. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (m === null) throw new Error(`invalid duration "${text}" (e.g. 500ms, 90s, 10m, 1h)`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

/** A flag's value as a positive integer; throws otherwise. */
function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: "${text}" is not a positive integer`);
  return n;
}

export async function runUp(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "data-dir": { type: "string", default: ".multiplane" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "6443" },
      "etcd-endpoints": { type: "string" },
      "audit-log-path": { type: "string" },
      "audit-policy-file": { type: "string" },
      "service-account-issuer": { type: "string" },
      "tenant-idle-timeout": { type: "string" },
      shard: { type: "string", default: "local" },
      "max-requests-inflight": { type: "string" },
    },
  });
  const mp = await up({
    dataDir: values["data-dir"],
    host: values.host,
    port: Number(values.port),
    ...(values["etcd-endpoints"] ? { etcdEndpoints: values["etcd-endpoints"].split(",") } : {}),
    ...(values["audit-log-path"] ? { auditLogPath: values["audit-log-path"] } : {}),
    ...(values["audit-policy-file"]
      ? { auditPolicy: await readFile(values["audit-policy-file"], "utf8") }
      : {}),
    ...(values["service-account-issuer"] ? { serviceAccountIssuer: values["service-account-issuer"] } : {}),
    ...(values["tenant-idle-timeout"]
      ? { tenantIdleTimeoutMs: parseDurationMs(values["tenant-idle-timeout"]) }
      : {}),
    shard: values.shard,
    ...(values["max-requests-inflight"]
      ? {
          fairness: {
            maxRequestsInFlight: positiveInteger("--max-requests-inflight", values["max-requests-inflight"]),
          },
        }
      : {}),
  });
  process.stdout.write(
    `\nMultiplane is serving at ${mp.url}\n` +
      `Admin kubeconfig: ${mp.kubeconfigPath}\n\n` +
      `  export KUBECONFIG=${mp.kubeconfigPath}\n\nTry it:\n` +
      `  kubectl apply -f examples/organization.yaml && kubectl wait --for=condition=Ready org/acme\n` +
      `  kubectl get secret -n org-acme acme-kubeconfig -o jsonpath='{.data.kubeconfig}' | base64 -d > acme.kubeconfig\n\n` +
      (await readFile(mp.kubeconfigPath, "utf8")),
  );
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      mp.stop().then(resolveStop, resolveStop);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}
