// The front router (`multiplane router`): finds a request's tenant (path or host),
// authenticates it with the tenant's authenticators, strips what a client says about
// identity, applies per-tenant fairness and streams it over mTLS to the tenant's shard.
//   tenant-directory  the registry interface the router reads, and a static implementation
//   tenant-route      tenant from path/host, canonical-path rules
//   forward-headers   header hygiene and the X-Remote-* identity
//   authentication    the pipeline's authenticators the router can run
//   fairness          per-tenant in-flight limit and queue
//   router-pki        the router's client certificate (requestheader CA) and serving pair
//   root-watch        list+watch of a root tenant resource through a shard, as the router
//   root-tenant-directory  the directory from ControlPlanes and shard Leases (multi-process)
//   router            the HTTPS server that ties them together

export * from "./tenant-directory.ts";
export * from "./tenant-route.ts";
export * from "./forward-headers.ts";
export * from "./authentication.ts";
export * from "./fairness.ts";
export * from "./router-pki.ts";
export * from "./root-watch.ts";
export * from "./root-tenant-directory.ts";
export * from "./router.ts";
