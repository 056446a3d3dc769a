// `multiplane router`: the front router as its own process. It shares the shards' data
// directory for what it must agree with them on: pki/ (the CA clients trust, the CA of the
// shards' serving certificates, the requestheader CA that signs its client certificate),
// jwt/ (the key set that verifies tenant JWTs) and tokens.csv (the bootstrap tokens).
// Tenants and shards come from the root tenant (`--root-url`: a list+watch of ControlPlanes and
// shard Leases through any shard, router/root-tenant-directory.ts), or, for tests, are static:
// `root` and every `--tenant` on the `--shard`s.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { JwtKeySet, parsePemBundle } from "../authn/index.ts";
import { parseTokenFile } from "../authn/token-file.authenticator.ts";
import { rootTenant, type Tenant } from "../tenancy/instance.ts";
import {
  buildRouterAuthenticator,
  ensureRouterPKI,
  isTenantName,
  RootTenantDirectory,
  startRouter,
  StaticTenantDirectory,
  tenantList,
  type RunningRouter,
  type TenantDirectory,
} from "../router/index.ts";
import { untilSignal } from "./shard.ts";

export interface RouterCommandOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Shards to learn tenants and shards from (any shard serves the root tenant); tried in turn. */
  readonly rootURLs?: readonly string[];
  /** Static: shard name → base URL; the first serves `root` and every tenant placed nowhere else. */
  readonly shards?: ReadonlyMap<string, string>;
  /** Static tenants: name, UID and (optionally) shard. */
  readonly tenants?: readonly (Tenant & { readonly shard?: string })[];
  readonly baseDomain?: string;
  /** The public URL clients use; the default issuer. */
  readonly externalURL?: string;
  /**
   * The `iss` of tenant JWTs; default the external URL, else the first root URL or shard URL
   * (what the shards use by default on a fixed port).
   */
  readonly issuer?: string;
  readonly maxInflight?: number;
  readonly quiet?: boolean;
}

/** Parses `name=value` flags; throws with the flag's name on a malformed one. */
function pairs(flag: string, values: readonly string[]): [string, string][] {
  return values.map((v) => {
    const i = v.indexOf("=");
    if (i <= 0 || i === v.length - 1) throw new Error(`--${flag} ${v}: expected <name>=<value>`);
    return [v.slice(0, i), v.slice(i + 1)];
  });
}

/** Starts a router from options (also for tests of the command). */
export async function router(opts: RouterCommandOptions): Promise<RunningRouter> {
  const dataDir = resolve(opts.dataDir);
  const log = pino(
    { level: opts.quiet ? "warn" : "info", redact: ["req.headers.authorization", "token"] },
    pino.destination(2),
  );
  const pki = await ensureRouterPKI(join(dataDir, "pki"), ["127.0.0.1", "localhost", "::1", opts.host]);
  const tokensPath = join(dataDir, "tokens.csv");
  const tokens = existsSync(tokensPath) ? parseTokenFile(await readFile(tokensPath, "utf8")) : new Map();
  let directory: TenantDirectory;
  let firstShard: string;
  let watched: RootTenantDirectory | undefined;
  if (opts.rootURLs !== undefined && opts.rootURLs.length > 0) {
    if (opts.shards !== undefined || opts.tenants !== undefined)
      throw new Error("--root-url learns tenants and shards; no --shard or --tenant with it");
    [firstShard] = opts.rootURLs as [string];
    watched = new RootTenantDirectory({
      rootURLs: opts.rootURLs,
      caPem: pki.shardCAPem,
      clientCertificate: pki.client,
      log,
    });
    directory = watched;
  } else {
    const shards = opts.shards ?? new Map<string, string>();
    const first = shards.values().next().value;
    if (first === undefined) throw new Error("--root-url, or at least one --shard, is required");
    firstShard = first;
    const tenants = opts.tenants ?? [];
    const placement = new Map(tenants.flatMap((t) => (t.shard !== undefined ? [[t.name, t.shard]] : [])));
    for (const [tenant, shard] of placement) {
      if (!shards.has(shard)) throw new Error(`--tenant ${tenant}: unknown shard "${shard}"`);
    }
    directory = new StaticTenantDirectory(tenantList([rootTenant, ...tenants]), shards, (name) =>
      placement.get(name),
    );
  }
  const running = await startRouter({
    host: opts.host,
    port: opts.port,
    serving: pki.serving,
    clientCAPem: pki.caPem,
    directory,
    authenticator: buildRouterAuthenticator({
      tokens,
      issuer: {
        url: opts.issuer ?? opts.externalURL ?? new URL(firstShard).origin,
        keys: await JwtKeySet.load(join(dataDir, "jwt")),
      },
      clientCAs: parsePemBundle(pki.caPem),
    }),
    upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
    ...(opts.baseDomain !== undefined ? { baseDomain: opts.baseDomain } : {}),
    ...(opts.maxInflight !== undefined ? { fairness: { maxInflight: opts.maxInflight } } : {}),
    ...(watched !== undefined ? { ready: () => watched.ready } : {}),
    log,
  });
  if (watched === undefined) return running;
  // Serving (not ready) while the first lists arrive; the watches retry until a shard answers.
  void watched.start();
  return {
    ...running,
    close: async () => {
      await running.close();
      await watched.stop();
    },
  };
}

export async function runRouter(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "data-dir": { type: "string", default: ".multiplane" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8443" },
      "root-url": { type: "string" },
      shard: { type: "string", multiple: true },
      tenant: { type: "string", multiple: true },
      "base-domain": { type: "string" },
      "external-url": { type: "string" },
      "service-account-issuer": { type: "string" },
      "max-requests-inflight": { type: "string" },
    },
  });
  let running: RunningRouter;
  try {
    const shards = values.shard === undefined ? undefined : new Map(pairs("shard", values.shard));
    for (const [name, url] of shards ?? []) {
      if (!/^https:\/\//.test(url)) throw new Error(`--shard ${name}=${url}: the shard URL must be https://`);
    }
    const tenants = values.tenant?.map((flag) => {
      const [[name, rest]] = pairs("tenant", [flag]) as [[string, string]];
      const [uid, shard] = rest.split("@") as [string, string | undefined];
      if (!isTenantName(name)) throw new Error(`--tenant ${name}: not a tenant name (org or org:project)`);
      return { name, uid, ...(shard !== undefined ? { shard } : {}) };
    });
    const rootURLs = values["root-url"]?.split(",");
    for (const url of [...(rootURLs ?? []), ...(values["external-url"] ?? [])]) {
      if (!/^https:\/\/[^/]+$/.test(url)) throw new Error(`${url}: expected https://host:port`);
    }
    running = await router({
      dataDir: values["data-dir"],
      host: values.host,
      port: Number(values.port),
      ...(rootURLs !== undefined ? { rootURLs } : {}),
      ...(shards !== undefined ? { shards } : {}),
      ...(tenants !== undefined ? { tenants } : {}),
      ...(values["base-domain"] !== undefined ? { baseDomain: values["base-domain"] } : {}),
      ...(values["external-url"] !== undefined ? { externalURL: values["external-url"] } : {}),
      ...(values["service-account-issuer"] !== undefined ? { issuer: values["service-account-issuer"] } : {}),
      ...(values["max-requests-inflight"] !== undefined
        ? { maxInflight: Number(values["max-requests-inflight"]) }
        : {}),
    });
  } catch (err) {
    process.stderr.write(`multiplane router: ${(err as Error).message}\n`);
    return 2;
  }
  process.stdout.write(`Multiplane router is serving at ${running.url}\n`);
  await untilSignal(() => running.close());
  return 0;
}
