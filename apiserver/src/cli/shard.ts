// One apiserver shard, as `multiplane apiserver` runs it and `multiplane up` embeds it: storage
// (embedded or etcd), the root tenant (with the platform's CRDs from crds/), the HTTPS server
// with the handler chain, the shard's lease in the root tenant (its liveness and URL, read by
// the other shards and the routers) and the ControlPlane registry that serves every tenant
// placed on this shard. Every shard serves the root tenant: they share the storage.

import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pino, { type Logger } from "pino";
import { parseTokenFile } from "../authn/token-file.authenticator.ts";
import { JwtKeySet, parsePemBundle, type JwtIssuer, type UserInfo } from "../authn/index.ts";
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
import { ensureServingPKI, type ServingPKI } from "../server/pki.ts";
import type { ServeRouted } from "../server/routed.ts";
import { startServer, type RunningServer, type ServerOptions } from "../server/server.ts";
import type { ShardFairnessOptions } from "../server/fairness.ts";
import { openStorage, type StorageConfig } from "../storage/index.ts";
import type { Storage } from "../storage/interface.ts";
import { platformCRDsDir, readCRDs, installCRDs } from "../registry/crd/crd.installer.ts";
import { ControlPlaneRegistry } from "../tenancy/controlplane.registry.ts";
import { rootTenant, TenantManager } from "../tenancy/instance.ts";
import { ShardLease } from "../tenancy/shard-lease.ts";
import { routerCommonName } from "../router/router-pki.ts";

export interface ShardOptions {
  dataDir: string;
  host: string;
  port: number;
  /** This shard's name: its lease `shard-<name>`, and the status.shard of the tenants it serves. */
  shard: string;
  etcdEndpoints?: string[];
  /** TLS to etcd: CA, client certificate and key (PEM). */
  etcdTLS?: { caPem: string; certPem?: string; keyPem?: string };
  /** Where routers reach this shard (its lease's URL); default the URL it listens at. */
  advertiseURL?: string;
  /** Where clients reach tenants (status.endpoint = `<externalURL>/clusters/<tenant>`); default advertiseURL. */
  externalURL?: string;
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
  /** Per-tenant in-flight limit (a tenant's policy overrides it; default 64) and queue. */
  fairness?: ShardFairnessOptions;
  /** The least time between two writes of a tenant's ControlPlane status.usage (default 5 s). */
  usageIntervalMs?: number;
  /** The shard lease's duration in seconds (default 10; renewed every third of it). */
  leaseSeconds?: number;
  /** Told each step of the start, for people (`multiplane up` prints them). */
  progress?: (step: string) => void;
}

/** The issuer when none is given and the port is chosen at listen time. */
export const defaultIssuer = "https://multiplane.local";

/** The client certificate CNs the router may present (kube's --requestheader-allowed-names). */
export const requestHeaderAllowedNames = [routerCommonName];

export const hostPort = (host: string, port: number): string =>
  `${host.includes(":") ? `[${host}]` : host}:${port}`;

export interface RunningShard {
  /** The shard's name. */
  readonly name: string;
  /** The URL the shard listens at. */
  readonly url: string;
  /** The URL its lease announces. */
  readonly advertiseURL: string;
  readonly tenants: TenantManager;
  /** Keeps `tenants` in step with the root tenant's ControlPlanes placed here. */
  readonly registry: ControlPlaneRegistry;
  readonly storage: Storage;
  readonly pki: ServingPKI;
  /** The bootstrap tokens (tokens.csv). */
  readonly tokens: ReadonlyMap<string, UserInfo>;
  /** The issuer of tenant JWTs and ServiceAccount tokens (URL and key set). */
  readonly issuer: JwtIssuer;
  readonly log: Logger;
  /** The shard's entry for a router in this process (`multiplane up`). */
  readonly serveRouted: ServeRouted;
  stop(): Promise<void>;
}

/** The admin token file: created once with a random token for `admin` in system:masters. */
export async function ensureTokenFile(path: string): Promise<string> {
  if (!existsSync(path)) {
    const token = randomBytes(24).toString("base64url");
    await writeFile(path, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  }
  return readFile(path, "utf8");
}

function storageConfig(opts: ShardOptions, dataDir: string): StorageConfig {
  if (opts.etcdEndpoints === undefined || opts.etcdEndpoints.length === 0)
    return { kind: "embedded", path: join(dataDir, "state.db") };
  return {
    kind: "etcd",
    endpoints: opts.etcdEndpoints,
    ...(opts.etcdTLS !== undefined ? { tls: opts.etcdTLS } : {}),
  };
}

export async function startShard(opts: ShardOptions): Promise<RunningShard> {
  const dataDir = resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log = pino(
    { level: opts.quiet ? "warn" : "info", redact: ["req.headers.authorization", "token"] },
    pino.destination(2),
  ).child({ shard: opts.shard });
  const advertisedHost = opts.advertiseURL === undefined ? [] : [new URL(opts.advertiseURL).hostname];
  const pki = await ensureServingPKI(join(dataDir, "pki"), [
    "127.0.0.1",
    "localhost",
    "::1",
    opts.host,
    ...advertisedHost,
  ]);
  const tokensText = await ensureTokenFile(join(dataDir, "tokens.csv"));
  const tokens = parseTokenFile(tokensText);
  const storeConfig = storageConfig(opts, dataDir);
  const storage = openStorage(storeConfig);
  opts.progress?.(
    storeConfig.kind === "embedded"
      ? `storage opened: embedded, ${storeConfig.path}`
      : `storage opened: etcd at ${storeConfig.endpoints.join(",")}`,
  );
  // Tenant JWTs and ServiceAccount tokens: one key set, kept in the data directory (shared by
  // the shards and routers of one installation, as is the issuer).
  const issuer: JwtIssuer = {
    url:
      opts.serviceAccountIssuer ??
      opts.externalURL ??
      opts.advertiseURL ??
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
  let server: RunningServer | undefined;
  let lease: ShardLease | undefined;
  let registry: ControlPlaneRegistry | undefined;
  try {
    // The root tenant is always served: build it, with the platform's CRDs Established, before
    // accepting requests.
    const root = await tenants.instance(rootTenant);
    const crds = await readCRDs(platformCRDsDir);
    await installCRDs(root, crds);
    opts.progress?.(`root control plane ready: ${crds.length} platform CRDs established`);
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
    const advertiseURL = opts.advertiseURL ?? server.url;
    // The lease first: the registry places tenants only on live shards, this one included.
    lease = new ShardLease({
      tenants,
      shard: opts.shard,
      url: advertiseURL,
      log,
      ...(opts.leaseSeconds !== undefined ? { leaseSeconds: opts.leaseSeconds } : {}),
    });
    await lease.start();
    // Tenants come from the root tenant's ControlPlanes placed here; endpoints name the public URL.
    registry = new ControlPlaneRegistry({
      tenants,
      storage,
      shard: opts.shard,
      serverURL: opts.externalURL ?? advertiseURL,
      shardURL: advertiseURL,
      log,
      ...(opts.usageIntervalMs !== undefined ? { usageIntervalMs: opts.usageIntervalMs } : {}),
    });
    await registry.start();
    log.info({ url: server.url, advertiseURL }, "shard is up");
    opts.progress?.(`shard ${opts.shard} ready at ${server.url}`);
    const running = { server, lease, registry };
    return {
      name: opts.shard,
      url: server.url,
      advertiseURL,
      tenants,
      registry,
      storage,
      pki,
      tokens,
      issuer,
      log,
      serveRouted: server.serveRouted,
      stop: async () => {
        await running.server.close();
        await running.registry.stop();
        await running.lease.stop();
        await tenants.close();
        await storage.close();
        await auditSink.close();
      },
    };
  } catch (err) {
    await server?.close();
    await registry?.stop();
    await lease?.stop();
    await tenants.close();
    await storage.close();
    await auditSink.close();
    throw err;
  }
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

/** The flags `up` and `apiserver` share (parseArgs options). */
export const shardFlags = {
  "data-dir": { type: "string", default: ".multiplane" },
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string", default: "6443" },
  "etcd-endpoints": { type: "string" },
  "audit-log-path": { type: "string" },
  "audit-policy-file": { type: "string" },
  "service-account-issuer": { type: "string" },
  "tenant-idle-timeout": { type: "string" },
  "max-requests-inflight": { type: "string" },
} as const;

type ShardFlagValues = { [K in keyof typeof shardFlags]?: string | undefined };

/** ShardOptions from the shared flags (files read, numbers checked); throws on a bad value. */
export async function shardOptionsOf(values: ShardFlagValues): Promise<Omit<ShardOptions, "shard">> {
  const port = Number(values.port ?? "6443");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: "${values.port}" is not a port`);
  return {
    dataDir: values["data-dir"] ?? ".multiplane",
    host: values.host ?? "127.0.0.1",
    port,
    ...(values["etcd-endpoints"] ? { etcdEndpoints: values["etcd-endpoints"].split(",") } : {}),
    ...(values["audit-log-path"] ? { auditLogPath: values["audit-log-path"] } : {}),
    ...(values["audit-policy-file"]
      ? { auditPolicy: await readFile(values["audit-policy-file"], "utf8") }
      : {}),
    ...(values["service-account-issuer"] ? { serviceAccountIssuer: values["service-account-issuer"] } : {}),
    ...(values["tenant-idle-timeout"]
      ? { tenantIdleTimeoutMs: parseDurationMs(values["tenant-idle-timeout"]) }
      : {}),
    ...(values["max-requests-inflight"]
      ? {
          fairness: {
            maxRequestsInFlight: positiveInteger("--max-requests-inflight", values["max-requests-inflight"]),
          },
        }
      : {}),
  };
}

/** Resolves on SIGINT or SIGTERM, once `stop` is done. */
export function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolveStop) => {
    const onSignal = (): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      stop().then(resolveStop, resolveStop);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

/** `multiplane apiserver --shard <name> --etcd-endpoints <csv> …`: one shard. */
export async function runApiserver(argv: readonly string[]): Promise<number> {
  let running: RunningShard;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        ...shardFlags,
        shard: { type: "string" },
        "advertise-url": { type: "string" },
        "external-url": { type: "string" },
        "etcd-ca-file": { type: "string" },
        "etcd-cert-file": { type: "string" },
        "etcd-key-file": { type: "string" },
        "shard-lease-duration": { type: "string" },
      },
    });
    const shard = values.shard;
    if (shard === undefined || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(shard) || shard.length > 57)
      throw new Error("--shard <name> is required: a DNS-1123 label of at most 57 characters");
    if (values["etcd-endpoints"] === undefined) throw new Error("--etcd-endpoints is required");
    for (const flag of ["advertise-url", "external-url"] as const) {
      const url = values[flag];
      if (url !== undefined && !/^https:\/\/[^/]+$/.test(url))
        throw new Error(`--${flag} ${url}: expected https://host:port`);
    }
    const ca = values["etcd-ca-file"];
    const cert = values["etcd-cert-file"];
    const key = values["etcd-key-file"];
    if ((cert === undefined) !== (key === undefined))
      throw new Error("--etcd-cert-file and --etcd-key-file go together");
    if (ca === undefined && cert !== undefined) throw new Error("--etcd-cert-file needs --etcd-ca-file");
    const leaseMs =
      values["shard-lease-duration"] !== undefined
        ? parseDurationMs(values["shard-lease-duration"])
        : undefined;
    if (leaseMs !== undefined && (leaseMs < 1_000 || leaseMs % 1_000 !== 0))
      throw new Error("--shard-lease-duration: whole seconds, at least 1s");
    running = await startShard({
      ...(await shardOptionsOf(values)),
      shard,
      ...(values["advertise-url"] !== undefined ? { advertiseURL: values["advertise-url"] } : {}),
      ...(values["external-url"] !== undefined ? { externalURL: values["external-url"] } : {}),
      ...(ca !== undefined
        ? {
            etcdTLS: {
              caPem: await readFile(ca, "utf8"),
              ...(cert !== undefined && key !== undefined
                ? { certPem: await readFile(cert, "utf8"), keyPem: await readFile(key, "utf8") }
                : {}),
            },
          }
        : {}),
      ...(leaseMs !== undefined ? { leaseSeconds: leaseMs / 1_000 } : {}),
    });
  } catch (err) {
    process.stderr.write(`multiplane apiserver: ${(err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(`Multiplane shard ${running.advertiseURL} is serving at ${running.url}\n`);
  await untilSignal(() => running.stop());
  return 0;
}
