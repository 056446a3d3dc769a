// The status an Organization or Project is given, built from the one it holds: its conditions
// (ControlPlaneReady → KubeconfigReady → Ready, each with observedGeneration), the tenant's name
// and endpoint, and the kubeconfig Secrets (the admin's, and the one for OIDC sign-in). Used by both reconcilers, which write it last.

import { setCondition, type Condition } from "../kube/objects.ts";
import type { TenantStatus } from "./tenant-access.ts";

/**
 * An Organization's or Project's next status, built from the one it holds: conditions keep
 * their transition times while their status stands. Used by both reconcilers.
 */
export class StatusBuilder {
  #conditions: Condition[];
  tenant: string | undefined;
  endpoint: string | undefined;
  secretRef: TenantStatus["kubeconfigSecretRef"];
  oidcSecretRef: TenantStatus["oidcKubeconfigSecretRef"];

  constructor(
    obj: { status?: TenantStatus },
    private readonly generation: number,
    private readonly now: string,
  ) {
    this.#conditions = obj.status?.conditions ?? [];
    this.tenant = obj.status?.tenant;
    this.endpoint = obj.status?.endpoint;
    this.secretRef = obj.status?.kubeconfigSecretRef;
    this.oidcSecretRef = obj.status?.oidcKubeconfigSecretRef;
  }

  set(type: string, status: Condition["status"], reason: string, message: string): void {
    this.#conditions = setCondition(
      this.#conditions,
      { type, status, reason, message, observedGeneration: this.generation },
      this.now,
    );
  }

  /**
   * `type` is False for this reason, and so is every condition that depends on it:
   * ControlPlaneReady → KubeconfigReady → Ready.
   */
  notReady(type: "ControlPlaneReady" | "KubeconfigReady" | "Ready", reason: string, message: string): void {
    const order = ["ControlPlaneReady", "KubeconfigReady", "Ready"] as const;
    for (const c of order.slice(order.indexOf(type))) {
      const own = c === type;
      const current = this.#conditions.find((x) => x.type === c);
      // A kubeconfig handed out stays usable while the control plane is updated.
      if (!own && c === "KubeconfigReady" && current?.status === "True" && reason !== "Deleting") continue;
      this.set(c, "False", reason, own ? message : `${type} is False: ${message}`);
    }
  }

  done(): TenantStatus {
    return {
      observedGeneration: this.generation,
      ...(this.tenant !== undefined ? { tenant: this.tenant } : {}),
      ...(this.endpoint !== undefined ? { endpoint: this.endpoint } : {}),
      ...(this.secretRef !== undefined ? { kubeconfigSecretRef: this.secretRef } : {}),
      ...(this.oidcSecretRef !== undefined ? { oidcKubeconfigSecretRef: this.oidcSecretRef } : {}),
      conditions: this.#conditions,
    };
  }
}
