// What the operator speaks to Kubernetes APIs with: the client (api.client.ts) and its reads
// from the informers' caches (object-cache.ts), the objects and paths it handles with the
// create-or-update step (objects.ts), the memo of what it wrote inside tenants
// (written-memo.ts), and tenant credentials minted from the data directory's JWT keys
// (tenant-credentials.ts).
export { ApiClient, ApiError, isStatus } from "./api.client.ts";
export { ensureObject, paths, setCondition, type KubeObj, type Subject } from "./objects.ts";
export {
  discoverIssuer,
  loadIssuer,
  mintTenantToken,
  TenantClients,
  type TenantRef,
} from "./tenant-credentials.ts";
