// The authentication stage's authenticators, built once per process in kube-apiserver's order:
// requestheader (the router's X-Remote-* over mTLS), x509 client certificates, the bootstrap
// token file, Multiplane's tenant JWTs, ServiceAccount tokens (answered from each tenant's
// watch cache), each tenant's OIDC issuers, and an optional TokenReview webhook.

import type { X509Certificate } from "node:crypto";
import {
  MultiplaneJwtAuthenticator,
  OidcAuthenticator,
  RequestHeaderAuthenticator,
  ServiceAccountAuthenticator,
  TokenFileAuthenticator,
  UnionAuthenticator,
  WebhookTokenAuthenticator,
  X509Authenticator,
  type Authenticator,
  type JWTAuthenticatorConfig,
  type JwtIssuer,
  type ServiceAccountLookup,
  type UserInfo,
  type WebhookTokenOptions,
} from "../authn/index.ts";
import type { KubeObject } from "../registry/printers.ts";
import { objectKey } from "../storage/keys.ts";
import type { Tenant, TenantManager } from "../tenancy/instance.ts";

export interface AuthenticationConfig {
  readonly tenants: TenantManager;
  /** The static tokens (kube's --token-auth-file). */
  readonly tokens: ReadonlyMap<string, UserInfo>;
  /** Signs and verifies tenant JWTs and ServiceAccount tokens. */
  readonly issuer: JwtIssuer;
  /** CAs of client certificates (kube's --client-ca-file). */
  readonly clientCAs: readonly X509Certificate[];
  /** The router's CA and allowed names (kube's --requestheader-client-ca-file / -allowed-names). */
  readonly requestHeader: {
    readonly clientCA: readonly X509Certificate[];
    readonly allowedNames: readonly string[];
  };
  /** Each tenant's OIDC issuers (its ControlPlane policy); the same objects while unchanged. */
  readonly oidcIssuers?: (tenant: Tenant) => readonly JWTAuthenticatorConfig[];
  readonly tokenWebhook?: WebhookTokenOptions;
}

/** What the ServiceAccount authenticator asks, answered from the tenant's watch cache. */
export function cacheLookup(tenants: TenantManager): ServiceAccountLookup {
  const find = async (tenant: Tenant, resource: string, namespace: string, name: string) => {
    let key;
    try {
      key = objectKey({ uid: tenant.uid }, { group: "", resource }, namespace, name);
    } catch {
      return undefined; // a name no key can hold names nothing
    }
    return (await tenants.instance(tenant)).cache.get(key)?.obj;
  };
  const looked = (o: KubeObject | undefined) =>
    o === undefined
      ? undefined
      : {
          uid: o.metadata?.uid ?? "",
          ...(o.metadata?.deletionTimestamp !== undefined
            ? { deletionTimestamp: o.metadata.deletionTimestamp }
            : {}),
        };
  return {
    serviceAccount: async (t, ns, name) => looked(await find(t, "serviceaccounts", ns, name)),
    secret: async (t, ns, name) => {
      const o = await find(t, "secrets", ns, name);
      if (o === undefined) return undefined;
      const data = o["data"] as Record<string, string> | undefined;
      return {
        ...looked(o)!,
        ...(data !== undefined ? { data } : {}),
        ...(o.metadata?.labels !== undefined ? { labels: o.metadata.labels } : {}),
      };
    },
  };
}

/** The union the chain asks; each authenticator is told the request's tenant. */
export function buildAuthenticator(config: AuthenticationConfig): Authenticator {
  const authenticators: Authenticator[] = [
    new RequestHeaderAuthenticator(config.requestHeader),
    new X509Authenticator({ clientCAs: [...config.clientCAs] }),
    new TokenFileAuthenticator(config.tokens),
    new MultiplaneJwtAuthenticator(config.issuer),
    new ServiceAccountAuthenticator(config.issuer, cacheLookup(config.tenants)),
  ];
  if (config.oidcIssuers !== undefined) authenticators.push(new OidcAuthenticator(config.oidcIssuers));
  if (config.tokenWebhook !== undefined)
    authenticators.push(new WebhookTokenAuthenticator(config.tokenWebhook));
  authenticators.push(tenantTokenWebhooks());
  return new UnionAuthenticator(authenticators);
}

/**
 * Each tenant's own TokenReview webhook (its policy's tokenWebhook), one authenticator per
 * configuration object, so its answer cache lives as long as the configuration does.
 */
export function tenantTokenWebhooks(): Authenticator {
  const byConfig = new WeakMap<WebhookTokenOptions, WebhookTokenAuthenticator>();
  return {
    authenticate(req) {
      const config = req.tenant.policy?.tokenWebhook;
      if (config === undefined) return Promise.resolve(null);
      let webhook = byConfig.get(config);
      if (webhook === undefined) byConfig.set(config, (webhook = new WebhookTokenAuthenticator(config)));
      return webhook.authenticate(req);
    },
  };
}
