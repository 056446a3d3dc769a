// The router's authenticators: the pipeline's own (authn/), in kube-apiserver's order, less
// the two the router cannot run. Requestheader is left out because the router is the edge:
// nobody in front of it may vouch for a user. ServiceAccount tokens are left out because
// checking one needs the ServiceAccount (and bound object) from the tenant's watch cache,
// which only the shard has: a bearer token the router does not accept is forwarded untouched
// and the shard authenticates it (router.ts). Everything accepted here is tenant-bound as on
// the shard: a tenant JWT's `aud` and tenant-UID claim, a tenant's own OIDC issuers and
// TokenReview webhook.

import type { X509Certificate } from "node:crypto";
import {
  MultiplaneJwtAuthenticator,
  OidcAuthenticator,
  TokenFileAuthenticator,
  UnionAuthenticator,
  WebhookTokenAuthenticator,
  X509Authenticator,
  type Authenticator,
  type JwtIssuer,
  type UserInfo,
  type WebhookTokenOptions,
} from "../authn/index.ts";
import { tenantTokenWebhooks } from "../server/authentication.ts";

export interface RouterAuthenticationConfig {
  /** The static tokens (kube's --token-auth-file), the same file as the shards'. */
  readonly tokens: ReadonlyMap<string, UserInfo>;
  /** Verifies tenant JWTs: the shards' issuer URL and key set. */
  readonly issuer: JwtIssuer;
  /** CAs of client certificates (kube's --client-ca-file). */
  readonly clientCAs: readonly X509Certificate[];
  /** A platform TokenReview webhook, if any. */
  readonly tokenWebhook?: WebhookTokenOptions;
}

const noIssuers: readonly never[] = [];

/** The union the router asks for each request; each authenticator is told the request's tenant. */
export function buildRouterAuthenticator(config: RouterAuthenticationConfig): Authenticator {
  const authenticators: Authenticator[] = [
    new X509Authenticator({ clientCAs: [...config.clientCAs] }),
    new TokenFileAuthenticator(config.tokens),
    new MultiplaneJwtAuthenticator(config.issuer),
    new OidcAuthenticator((tenant) => tenant.policy?.oidcIssuers ?? noIssuers),
  ];
  if (config.tokenWebhook !== undefined)
    authenticators.push(new WebhookTokenAuthenticator(config.tokenWebhook));
  authenticators.push(tenantTokenWebhooks());
  return new UnionAuthenticator(authenticators);
}
