// How a request waits on an outbound call (an admission or authorization webhook, a storage
// create or delete): the fairness stage gives each request an `Outbound` that runs the call
// with the request's seat given back (server/fairness.ts), so that a tenant whose webhooks are
// slow holds no seat while it waits and cannot starve the other tenants, and a tenant's writes
// waiting on etcd do not cap its throughput. Callers without a seat run the call as is.

/** Runs `call` (an outbound request and nothing else) and answers what it answers. */
export type Outbound = <T>(call: () => Promise<T>) => Promise<T>;

/** For a request that holds no seat (tests, the tenant's own controllers): runs the call as is. */
export const direct: Outbound = (call) => call();
