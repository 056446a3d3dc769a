// The tenant's legacy ServiceAccount token controller (kube-controller-manager's tokens
// controller): a Secret of type kubernetes.io/service-account-token naming a ServiceAccount
// (annotation kubernetes.io/service-account.name) gets a legacy token, the CA and the
// namespace in its data, and the ServiceAccount's UID in an annotation; a token Secret whose
// ServiceAccount is gone (or was re-created with another UID) is deleted, as upstream does.

import type { Logger } from "pino";
import { legacyServiceAccountToken, type JwtIssuer } from "../authn/index.ts";
import type { KubeObject } from "../registry/printers.ts";
import type { CacheEvent } from "../registry/watch-cache.ts";
import { resourcePrefix, tenantPrefix } from "../storage/keys.ts";
import type { TenantInstance } from "../tenancy/instance.ts";
import { logKeys, queueFailureLogger } from "./log.ts";
import { hasCode, storeFor } from "./tenant-objects.ts";
import { WorkQueue, type WorkQueueOptions } from "./work-queue.ts";

export const serviceAccountTokenType = "kubernetes.io/service-account-token";
export const serviceAccountNameAnnotation = "kubernetes.io/service-account.name";
export const serviceAccountUIDAnnotation = "kubernetes.io/service-account.uid";

/** What the controller signs tokens with, and the CA it hands out (ca.crt). */
export interface TokenSigning {
  readonly issuer: JwtIssuer;
  readonly caPem: string;
}

const secretsRef = { group: "", resource: "secrets" } as const;
const serviceAccountsRef = { group: "", resource: "serviceaccounts" } as const;
const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64");

/** Fills in or deletes one token Secret (key `<namespace>/<name>`). */
async function reconcileTokenSecret(
  instance: TenantInstance,
  signing: TokenSigning,
  key: string,
): Promise<void> {
  const [namespace = "", name = ""] = key.split("/");
  const tenant = { uid: instance.tenant.uid };
  const secret = instance.cache.get(`${resourcePrefix(tenant, secretsRef, namespace)}${name}`)?.obj;
  if (secret === undefined || secret["type"] !== serviceAccountTokenType) return;
  if (secret.metadata?.deletionTimestamp !== undefined) return;
  const annotations = secret.metadata?.annotations ?? {};
  const saName = annotations[serviceAccountNameAnnotation] ?? "";
  const sa =
    saName === ""
      ? undefined
      : instance.cache.get(`${resourcePrefix(tenant, serviceAccountsRef, namespace)}${saName}`)?.obj;
  const secretsDef = instance.resources.lookup("", "v1", "secrets");
  if (secretsDef === undefined) return;
  const store = storeFor(instance, secretsDef);
  const wantedUID = annotations[serviceAccountUIDAnnotation];
  if (sa === undefined || (wantedUID !== undefined && wantedUID !== "" && wantedUID !== sa.metadata?.uid)) {
    try {
      await store.delete(namespace, name, {
        dryRun: false,
        preconditions: { uid: secret.metadata?.uid ?? "" },
      });
    } catch (err) {
      if (!hasCode(err, 404, 409)) throw err;
    }
    return;
  }
  const data = (secret["data"] ?? {}) as Record<string, string>;
  if (data["token"] && data["ca.crt"] && data["namespace"] && wantedUID === sa.metadata?.uid) return;
  const token = await legacyServiceAccountToken(signing.issuer, {
    tenant: instance.tenant,
    namespace,
    serviceAccountName: saName,
    serviceAccountUID: sa.metadata?.uid ?? "",
    secretName: name,
  });
  try {
    await store.update(
      namespace,
      name,
      (current: KubeObject) => ({
        ...current,
        metadata: {
          ...current.metadata,
          annotations: {
            ...(current.metadata?.annotations ?? {}),
            [serviceAccountUIDAnnotation]: sa.metadata?.uid ?? "",
          },
        },
        data: {
          ...((current["data"] ?? {}) as Record<string, string>),
          token: (current["data"] as Record<string, string> | undefined)?.["token"] || b64(token),
          "ca.crt": b64(signing.caPem),
          namespace: b64(namespace),
        },
      }),
      { dryRun: false },
    );
  } catch (err) {
    if (!hasCode(err, 404)) throw err;
  }
}

/** One tenant's token controller. Started and stopped with the tenant's controllers. */
export class ServiceAccountTokenController {
  private readonly queue: WorkQueue;
  private readonly secretsPrefix: string;
  private readonly serviceAccountsPrefix: string;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly instance: TenantInstance,
    signing: TokenSigning,
    log: Logger,
    opts: WorkQueueOptions = {},
  ) {
    const tenant = { uid: instance.tenant.uid };
    this.secretsPrefix = resourcePrefix(tenant, secretsRef);
    this.serviceAccountsPrefix = resourcePrefix(tenant, serviceAccountsRef);
    this.queue = new WorkQueue(
      (key) => reconcileTokenSecret(instance, signing, key),
      queueFailureLogger(log.child({ [logKeys.controller]: "serviceaccount-token" })),
      opts,
    );
  }

  start(): void {
    // Subscribed and listed in the same tick: no change is missed.
    this.unsubscribe = this.instance.cache.subscribe(
      tenantPrefix({ uid: this.instance.tenant.uid }),
      (events) => this.onEvents(events),
    );
    for (const s of this.instance.cache.list(this.secretsPrefix)) this.queueSecret(s.obj);
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.shutdown();
  }

  /** Keys waiting, running or delayed (0 when idle). */
  get pending(): number {
    return this.queue.length;
  }

  private queueSecret(s: KubeObject): void {
    const m = s.metadata;
    if (s["type"] === serviceAccountTokenType && m?.name !== undefined && m.namespace !== undefined) {
      this.queue.add(`${m.namespace}/${m.name}`);
    }
  }

  private onEvents(events: readonly CacheEvent[]): void {
    for (const e of events) {
      if (e.key.startsWith(this.secretsPrefix)) {
        if (e.type !== "DELETED") this.queueSecret(e.object.obj);
      } else if (e.key.startsWith(this.serviceAccountsPrefix)) {
        // A ServiceAccount came or went: its token Secrets are looked at again.
        const ns = e.object.obj.metadata?.namespace ?? "";
        const name = e.object.obj.metadata?.name ?? "";
        for (const s of this.instance.cache.list(`${this.secretsPrefix}${ns}/`)) {
          if (s.obj.metadata?.annotations?.[serviceAccountNameAnnotation] === name) this.queueSecret(s.obj);
        }
      }
    }
  }
}
