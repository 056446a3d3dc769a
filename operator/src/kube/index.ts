// What the operator speaks to Kubernetes APIs with: the client (api.client.ts), the objects and
// paths it handles with the create-or-update step (objects.ts), and tenant credentials minted
// from the data directory's JWT keys (tenant-credentials.ts).
export { ApiClient, ApiError, isStatus } from "./api.client.ts";
export { ensureObject, paths, setCondition, type KubeObj, type Subject } from "./objects.ts";
export {
  discoverIssuer,
  loadIssuer,
  mintTenantToken,
  TenantClients,
  type TenantRef,
} from "./tenant-credentials.ts";
