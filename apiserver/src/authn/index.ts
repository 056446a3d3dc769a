// Authentication: who is asking. The user every later stage reads (user.ts), and the
// authenticators the chain's authentication stage asks through one union, each answering a
// user, null ("not mine") or an error when it is broken:
//   requestheader  the front proxy's X-Remote-* headers, only over mTLS from the proxy's certificate
//   x509           client certificates of the client CAs
//   multiplane-jwt Multiplane's own tenant tokens (ES256, key set in jwt-keys.ts)
//   serviceaccount bound and legacy ServiceAccount tokens, signed by the same key set
//   oidc           each tenant's OpenID Connect issuers
//   webhook-token  a TokenReview service
//   token-file     static tokens (--token-auth-file)
// Anonymous requests are the chain's business, not an authenticator's.

export * from "./user.ts";
export { UnionAuthenticator } from "./union.authenticator.ts";
export * from "./jwt-keys.ts";
export * from "./multiplane-jwt.authenticator.ts";
export * from "./serviceaccount.authenticator.ts";
export * from "./oidc.authenticator.ts";
export * from "./x509.authenticator.ts";
export { parsePemBundle, peerCertificates, subjectOf, verifyClientChain } from "./x509-verify.ts";
export * from "./requestheader.authenticator.ts";
export * from "./webhook-token.authenticator.ts";
export { parseTokenFile, TokenFileAuthenticator } from "./token-file.authenticator.ts";
export { httpsRequest, type HttpsRequest, type HttpsResponse } from "./https-client.ts";
