// Credentials for tenants, minted by the operator and by `multiplane kubeconfig` from the data
// directory's JWT keys (jwt/, the key set the shards verify with): Multiplane tenant tokens
// (ES256 JWTs whose audience and tenant-UID claim name one tenant, so they die with its
// ControlPlane), the admin kubeconfigs handed to owners, and the operator's own short-lived
// access to each tenant it bootstraps.

import { KubeConfig } from "@kubernetes/client-node";
import https from "node:https";
import { join } from "node:path";
import { JwtKeySet, type JwtIssuer } from "../../../apiserver/src/authn/jwt-keys.ts";
import { issueTenantToken } from "../../../apiserver/src/authn/multiplane-jwt.authenticator.ts";
import { buildKubeconfig } from "../../../apiserver/src/server/kubeconfig.ts";
import { ApiClient } from "./api.client.ts";

/** A tenant as a token names it: `acme` or `acme:web`, and its ControlPlane's UID. */
export interface TenantRef {
  readonly name: string;
  readonly uid: string;
}

/** Who the operator is inside every tenant it bootstraps. */
export const operatorUser = { name: "system:multiplane:operator", groups: ["system:masters"] } as const;

/** The user of the admin kubeconfigs in the kubeconfig Secrets. */
export const kubeconfigUser = "multiplane:admin";

/** How long the operator's own tenant tokens live; re-minted after two thirds of it. */
const operatorTokenSeconds = 600;

/**
 * The `iss` of Multiplane's tokens, as the root control plane's discovery document states it
 * (anonymous GET /.well-known/openid-configuration). Called once at operator start.
 */
export async function discoverIssuer(root: ApiClient): Promise<string> {
  const doc = await root.request<{ issuer?: unknown }>("GET", "/.well-known/openid-configuration");
  if (typeof doc?.issuer !== "string" || doc.issuer === "")
    throw new Error("the root control plane's /.well-known/openid-configuration names no issuer");
  return doc.issuer;
}

/** The issuer of `dataDir`'s key set (jwt/) under the URL `issuerURL`. */
export async function loadIssuer(dataDir: string, issuerURL: string): Promise<JwtIssuer> {
  return { url: issuerURL, keys: await JwtKeySet.load(join(dataDir, "jwt")) };
}

/** A kubeconfig whose one user holds a bearer token; cluster and context are named after `name`. */
export function tokenKubeconfig(opts: {
  name: string;
  server: string;
  caPem: string;
  token: string;
  user: string;
}): string {
  return buildKubeconfig(opts);
}

/** The ServiceAccount-free token of `user` at `tenant`, valid `seconds`. */
export function mintTenantToken(
  issuer: JwtIssuer,
  tenant: TenantRef,
  user: { name: string; groups: readonly string[] },
  seconds: number,
): Promise<string> {
  return issueTenantToken(issuer, {
    tenant: { name: tenant.name, uid: tenant.uid },
    subject: user.name,
    groups: user.groups,
    extra: {},
    expiresInSeconds: seconds,
  });
}

interface CachedClient {
  readonly client: ApiClient;
  readonly server: string;
  readonly renewAt: number;
}

/**
 * The operator's clients of tenants, as `operatorUser` with a token re-minted at two thirds of
 * its life. Owned by the operator; one per process. Every tenant is a path on the same few
 * servers (`<router>/clusters/<tenant>`) behind the same CA, so all clients share one keep-alive
 * agent: one TLS context and a pool of connections, not a handshake per tenant.
 */
export class TenantClients {
  readonly #clients = new Map<string, CachedClient>();
  readonly #agent: https.Agent;
  readonly #via: string | undefined;
  readonly #now: () => number;

  /**
   * `caPem`: the CA of the servers tenants are reached at. `via`: reach every tenant at
   * `<via>/clusters/<tenant>` (a shard of this process), not at its ControlPlane's endpoint.
   */
  constructor(
    private readonly issuer: JwtIssuer,
    caPem: string,
    opts: { readonly via?: string; readonly now?: () => number } = {},
  ) {
    this.#agent = new https.Agent({ keepAlive: true, ca: caPem });
    this.#via = opts.via?.replace(/\/+$/, "");
    this.#now = opts.now ?? Date.now;
  }

  /** A client of `tenant`, whose ControlPlane's endpoint is `endpoint`. */
  async client(tenant: TenantRef, endpoint: string): Promise<ApiClient> {
    const server = this.#via !== undefined ? `${this.#via}/clusters/${tenant.name}` : endpoint;
    const key = `${tenant.name}/${tenant.uid}`;
    const cached = this.#clients.get(key);
    if (cached !== undefined && cached.server === server && cached.renewAt > this.#now())
      return cached.client;
    const token = await mintTenantToken(this.issuer, tenant, operatorUser, operatorTokenSeconds);
    // The credential only: the shared agent holds the CA.
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "tenant", server, skipTLSVerify: false }],
      users: [{ name: operatorUser.name, token }],
      contexts: [{ name: "tenant", cluster: "tenant", user: operatorUser.name }],
      currentContext: "tenant",
    });
    const client = new ApiClient(kc, this.#agent);
    this.#clients.set(key, { client, server, renewAt: this.#now() + (operatorTokenSeconds * 1000 * 2) / 3 });
    return client;
  }

  /** Forgets the client of a tenant that is gone. */
  forget(tenant: TenantRef): void {
    const key = `${tenant.name}/${tenant.uid}`;
    this.#clients.delete(key);
  }

  close(): void {
    this.#clients.clear();
    this.#agent.destroy();
  }
}
