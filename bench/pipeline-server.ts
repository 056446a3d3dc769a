// The server `npm run bench:pipeline` runs in a child process, in one of three variants built
// from the same pieces `multiplane up` composes (serving PKI, embedded storage, the root
// tenant, the JWT key set, metrics), started with startServer:
//
//   pipeline  up's authenticator union (requestheader, x509, token file, tenant JWTs,
//             ServiceAccount tokens), the tenant's authorizer (system:masters, then RBAC),
//             an Auditor at level Metadata for every request into a log sink.
//   bypass    authentication and authorization bypassed: an authenticator written here, for
//             the benchmark only, that answers a fixed system:masters user without looking at
//             the request (so authorization stops at the privileged-groups authorizer, RBAC is
//             never asked); the same auditor as the pipeline.
//   bare      bypass without the auditor either: what audit itself costs.
//
// Metrics are on in both. Usage: node --import tsx bench/pipeline-server.ts <variant> <dataDir>
// When serving, prints one JSON line on stdout: {url, caPem, adminToken, userToken, auditLogPath}.

import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import {
  issueTenantToken,
  JwtKeySet,
  parsePemBundle,
  parseTokenFile,
  type Authenticator,
  type JwtIssuer,
  type UserInfo,
} from "../apiserver/src/authn/index.ts";
import { Auditor, logSink, parseAuditPolicy } from "../apiserver/src/audit/index.ts";
import { requestHeaderAllowedNames } from "../apiserver/src/cli/up.ts";
import { ApiserverMetrics } from "../apiserver/src/metrics/index.ts";
import { buildAuthenticator } from "../apiserver/src/server/authentication.ts";
import { ensureServingPKI } from "../apiserver/src/server/pki.ts";
import { startServer } from "../apiserver/src/server/server.ts";
import { openStorage } from "../apiserver/src/storage/index.ts";
import { rootTenant, TenantManager, type Tenant } from "../apiserver/src/tenancy/instance.ts";

export const variants = ["pipeline", "bypass", "bare"] as const;
export type Variant = (typeof variants)[number];

/** The user and group the benchmark's tenant token names. */
export const benchUser = { name: "bench-user", group: "bench" } as const;

/** What the child prints once it serves. */
export interface ServerHello {
  readonly url: string;
  readonly caPem: string;
  /** A static token (token file) for system:masters: the bench seeds the tenant with it. */
  readonly adminToken: string;
  /** A tenant JWT (ES256) for bench-user in group bench, minted by issueTenantToken. */
  readonly userToken: string;
  readonly auditLogPath: string;
}

/** Every level-Metadata request, health checks included: the heaviest Metadata policy. */
const metadataForEverything = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n";

/** The bypass: everyone is this user. Benchmark code only, never part of the server. */
const benchMaster: UserInfo = {
  name: "bench-master",
  uid: "",
  groups: ["system:masters", "system:authenticated"],
  extra: {},
};
const fixedMaster: Authenticator = { authenticate: () => Promise.resolve(benchMaster) };

async function main(variant: Variant, dataDir: string): Promise<void> {
  const log = pino({ level: "warn" }, pino.destination(2));
  const pki = await ensureServingPKI(join(dataDir, "pki"), ["127.0.0.1", "localhost"]);
  const storage = openStorage({ kind: "embedded", path: join(dataDir, "state.db") });
  const issuer: JwtIssuer = {
    url: "https://multiplane.local",
    keys: await JwtKeySet.load(join(dataDir, "jwt")),
  };
  const adminToken = randomBytes(24).toString("base64url");
  const metrics = new ApiserverMetrics();
  // As `multiplane up` builds it: token signing for legacy ServiceAccount Secrets, admission metrics.
  const tenants = new TenantManager(storage, { issuer, caPem: pki.ca.certPem }, (step) =>
    metrics.recordAdmissionStep(step),
  );
  await tenants.instance(rootTenant);
  const auditLogPath = join(dataDir, "audit.log");
  const sink = variant === "bare" ? undefined : logSink({ path: auditLogPath, metrics: metrics.audit });
  const auditPolicy = parseAuditPolicy(metadataForEverything);

  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    pki,
    tenants,
    authenticator:
      variant === "pipeline"
        ? buildAuthenticator({
            tenants,
            tokens: parseTokenFile(`${adminToken},admin,admin,"system:masters"\n`),
            issuer,
            clientCAs: parsePemBundle(pki.ca.certPem),
            oidcIssuers: (tenant) => tenant.policy?.oidcIssuers ?? [],
            requestHeader: {
              clientCA: parsePemBundle(pki.requestHeaderCA.certPem),
              allowedNames: requestHeaderAllowedNames,
            },
          })
        : fixedMaster,
    issuer,
    ...(sink !== undefined
      ? {
          auditor: new Auditor({ sink, metrics: metrics.audit }),
          // The tenant's own policy first, as up does; the root tenant has none.
          auditPolicy: (tenant: Tenant) => tenant.policy?.auditPolicy ?? auditPolicy,
        }
      : {}),
    metrics,
    log,
  });

  const hello: ServerHello = {
    url: server.url,
    caPem: pki.ca.certPem,
    adminToken,
    userToken: await issueTenantToken(issuer, {
      tenant: rootTenant,
      subject: benchUser.name,
      groups: [benchUser.group],
      extra: {},
      expiresInSeconds: 3600,
    }),
    auditLogPath,
  };
  process.stdout.write(`${JSON.stringify(hello)}\n`);

  // Stops on SIGTERM, or when the bench goes away without sending it (its end of stdin closes).
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.stdin.once("close", () => resolve());
    process.stdin.resume();
  });
  process.stdin.destroy(); // let the process end by itself (so --cpu-prof can write its profile)
  await server.close();
  await tenants.close();
  await storage.close();
  await sink?.close();
}

// Run as the child only; the bench imports the types and names above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [variant, dataDir] = process.argv.slice(2);
  if (!variants.includes(variant as Variant) || dataDir === undefined) {
    process.stderr.write(`usage: pipeline-server.ts <${variants.join("|")}> <dataDir>\n`);
    process.exit(2);
  }
  await main(variant as Variant, resolve(dataDir));
}
