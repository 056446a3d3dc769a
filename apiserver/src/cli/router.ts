// `multiplane router`: the front router as its own process. It shares the shards' data
// directory for what it must agree with them on: pki/ (the CA clients trust, the CA of the
// shards' serving certificates, the requestheader CA that signs its client certificate),
// jwt/ (the key set that verifies tenant JWTs) and tokens.csv (the bootstrap tokens).
// Until the ControlPlane registry lands, tenants are static: `root` and every `--tenant`.

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
  startRouter,
  StaticTenantDirectory,
  tenantList,
  type RunningRouter,
} from "../router/index.ts";

export interface RouterCommandOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Shard name → base URL; the first serves `root` and every tenant placed nowhere else. */
  readonly shards: ReadonlyMap<string, string>;
  /** Static tenants: name, UID and (optionally) shard. */
  readonly tenants: readonly (Tenant & { readonly shard?: string })[];
  readonly baseDomain?: string;
  /** The `iss` of tenant JWTs; default the first shard's URL (what `multiplane up` uses on a fixed port). */
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
  const firstShard = opts.shards.values().next().value;
  if (firstShard === undefined) throw new Error("multiplane router: at least one --shard is required");
  const placement = new Map(opts.tenants.flatMap((t) => (t.shard !== undefined ? [[t.name, t.shard]] : [])));
  for (const [tenant, shard] of placement) {
    if (!opts.shards.has(shard)) throw new Error(`--tenant ${tenant}: unknown shard "${shard}"`);
  }
  const directory = new StaticTenantDirectory(
    tenantList([rootTenant, ...opts.tenants]),
    opts.shards,
    (name) => placement.get(name),
  );
  return startRouter({
    host: opts.host,
    port: opts.port,
    serving: pki.serving,
    clientCAPem: pki.caPem,
    directory,
    authenticator: buildRouterAuthenticator({
      tokens,
      issuer: {
        url: opts.issuer ?? new URL(firstShard).origin,
        keys: await JwtKeySet.load(join(dataDir, "jwt")),
      },
      clientCAs: parsePemBundle(pki.caPem),
    }),
    upstream: { caPem: pki.shardCAPem, clientCertificate: pki.client },
    ...(opts.baseDomain !== undefined ? { baseDomain: opts.baseDomain } : {}),
    ...(opts.maxInflight !== undefined ? { fairness: { maxInflight: opts.maxInflight } } : {}),
    log,
  });
}

export async function runRouter(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "data-dir": { type: "string", default: ".multiplane" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8443" },
      shard: { type: "string", multiple: true, default: [] },
      tenant: { type: "string", multiple: true, default: [] },
      "base-domain": { type: "string" },
      "service-account-issuer": { type: "string" },
      "max-requests-inflight": { type: "string" },
    },
  });
  let running: RunningRouter;
  try {
    const shards = new Map(pairs("shard", values.shard));
    for (const [name, url] of shards) {
      if (!/^https:\/\//.test(url)) throw new Error(`--shard ${name}=${url}: the shard URL must be https://`);
    }
    const tenants = pairs("tenant", values.tenant).map(([name, rest]) => {
      const [uid, shard] = rest.split("@") as [string, string | undefined];
      if (!isTenantName(name)) throw new Error(`--tenant ${name}: not a tenant name (org or org:project)`);
      return { name, uid, ...(shard !== undefined ? { shard } : {}) };
    });
    running = await router({
      dataDir: values["data-dir"],
      host: values.host,
      port: Number(values.port),
      shards,
      tenants,
      ...(values["base-domain"] !== undefined ? { baseDomain: values["base-domain"] } : {}),
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
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      running.close().then(resolveStop, resolveStop);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  return 0;
}
