// Authorization: the Authorizer contract and its 403 text, the RBAC authorizer with
// aggregation and the escalation check, and the default RBAC policy seeded per tenant.

export * from "./authorizer.ts";
export * from "./rbac.authorizer.ts";
export * from "./bootstrap.policy.ts";
export * from "./rbac.source.ts";
export * from "./union.authorizer.ts";
export * from "./webhook.authorizer.ts";
