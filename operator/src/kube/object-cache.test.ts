// The reconcilers' cached reads: API paths taken apart, reads answered from an informer's
// cache (or not at all when no informer holds the collection), the operator's own writes
// answered until the informer delivers them, and forgotten on its delete event, on the
// operator's delete, and after their time to live.

import type { KubernetesObject } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keyOf, type Informer, type InformerEvent, type InformerHandler } from "../runtime/index.ts";
import { ObjectCache, parsePath } from "./object-cache.ts";

/** The part of an Informer the cache uses, fed by the test. */
class FakeInformer {
  readonly objects = new Map<string, KubernetesObject>();
  readonly handlers: Record<InformerEvent, Set<InformerHandler<KubernetesObject>>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
  };
  get(key: string): KubernetesObject | undefined {
    return this.objects.get(key);
  }
  on(event: InformerEvent, fn: InformerHandler<KubernetesObject>): () => void {
    this.handlers[event].add(fn);
    return () => this.handlers[event].delete(fn);
  }
  /** The watch delivers `obj` (added or modified). */
  deliver(obj: KubernetesObject): void {
    const old = this.objects.get(keyOf(obj));
    this.objects.set(keyOf(obj), obj);
    for (const fn of this.handlers[old === undefined ? "add" : "update"]) fn(obj, old);
  }
  /** The watch delivers the deletion of `obj`. */
  remove(obj: KubernetesObject): void {
    this.objects.delete(keyOf(obj));
    for (const fn of this.handlers.delete) fn(obj);
  }
  asInformer(): Informer<KubernetesObject> {
    return this as unknown as Informer<KubernetesObject>;
  }
}

const secret = (name: string, rv: string, data = "a"): KubernetesObject & { data: unknown } => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace: "org-acme", resourceVersion: rv },
  data: { k: data },
});

const secretPath = (name: string) => `/api/v1/namespaces/org-acme/secrets/${name}`;

function setup() {
  let now = 0;
  const informer = new FakeInformer();
  const cache = new ObjectCache(() => now);
  cache.cover("/api/v1/secrets", informer.asInformer());
  return { informer, cache, tick: (ms: number) => (now += ms) };
}

describe("parsePath", () => {
  test("takes core, group, namespaced, cluster-scoped and subresource paths apart", () => {
    assert.deepEqual(parsePath("/api/v1/namespaces/org-a/secrets/a-kubeconfig"), {
      collection: "/api/v1/secrets",
      namespace: "org-a",
      name: "a-kubeconfig",
    });
    assert.deepEqual(parsePath("/api/v1/namespaces/org-a"), {
      collection: "/api/v1/namespaces",
      name: "org-a",
    });
    assert.deepEqual(parsePath("/api/v1/namespaces/org-a/status"), {
      collection: "/api/v1/namespaces",
      name: "org-a",
    });
    assert.deepEqual(parsePath("/apis/tenancy.multiplane.dev/v1alpha1/organizations/acme/status"), {
      collection: "/apis/tenancy.multiplane.dev/v1alpha1/organizations",
      name: "acme",
    });
    assert.deepEqual(
      parsePath("/apis/rbac.authorization.k8s.io/v1/namespaces/org-a/roles/multiplane:organization-owner"),
      {
        collection: "/apis/rbac.authorization.k8s.io/v1/roles",
        namespace: "org-a",
        name: "multiplane:organization-owner",
      },
    );
    assert.deepEqual(parsePath("/api/v1/namespaces/org-a/secrets"), {
      collection: "/api/v1/secrets",
      namespace: "org-a",
    });
  });

  test("answers nothing for paths that name no resource", () => {
    for (const p of [
      "/",
      "/api",
      "/apis/g",
      "/clusters/acme/api/v1/namespaces/x",
      "/.well-known/openid-configuration",
    ])
      assert.equal(parsePath(p), undefined, p);
  });
});

describe("ObjectCache", () => {
  test("answers a covered collection from its informer and leaves the others to the API", () => {
    const { informer, cache } = setup();
    informer.deliver(secret("a", "10"));
    assert.equal(cache.lookup<KubernetesObject>(secretPath("a"))?.obj?.metadata?.resourceVersion, "10");
    assert.deepEqual(cache.lookup(secretPath("missing")), { obj: undefined });
    assert.equal(cache.lookup("/api/v1/namespaces/org-acme/configmaps/a"), undefined);
    assert.equal(cache.lookup("/api/v1/namespaces/org-acme/secrets"), undefined, "a collection is no object");
  });

  test("answers the operator's own write until the informer delivers it", () => {
    const { informer, cache } = setup();
    cache.wrote("/api/v1/namespaces/org-acme/secrets", secret("a", "11"));
    assert.equal(cache.lookup<KubernetesObject>(secretPath("a"))?.obj?.metadata?.resourceVersion, "11");
    informer.deliver(secret("a", "11", "delivered"));
    assert.deepEqual(cache.lookup<{ data: unknown }>(secretPath("a"))?.obj?.data, { k: "delivered" });
  });

  test("a later state from the informer wins over an earlier write", () => {
    const { informer, cache } = setup();
    informer.deliver(secret("a", "10"));
    cache.wrote(secretPath("a"), secret("a", "12"));
    assert.equal(cache.lookup<KubernetesObject>(secretPath("a"))?.obj?.metadata?.resourceVersion, "12");
    informer.deliver(secret("a", "15"));
    assert.equal(cache.lookup<KubernetesObject>(secretPath("a"))?.obj?.metadata?.resourceVersion, "15");
    cache.wrote(secretPath("a"), secret("a", "14"));
    assert.equal(
      cache.lookup<KubernetesObject>(secretPath("a"))?.obj?.metadata?.resourceVersion,
      "15",
      "an answer older than the cache is not kept",
    );
  });

  test("a write is forgotten on the informer's delete, the operator's delete, and after its time", () => {
    const { informer, cache, tick } = setup();
    cache.wrote(secretPath("a"), secret("a", "11"));
    informer.remove(secret("a", "11"));
    assert.deepEqual(cache.lookup(secretPath("a")), { obj: undefined });

    cache.wrote(secretPath("b"), secret("b", "12"));
    cache.deleted(secretPath("b"));
    assert.deepEqual(cache.lookup(secretPath("b")), { obj: undefined });

    cache.wrote(secretPath("c"), secret("c", "13"));
    tick(29_000);
    assert.equal(cache.lookup<KubernetesObject>(secretPath("c"))?.obj?.metadata?.resourceVersion, "13");
    tick(2_000);
    assert.deepEqual(cache.lookup(secretPath("c")), { obj: undefined }, "a watch that never delivers it");
  });

  test("clear stops answering: reads go to the API again", () => {
    const { informer, cache } = setup();
    informer.deliver(secret("a", "10"));
    cache.clear();
    assert.equal(cache.lookup(secretPath("a")), undefined);
    assert.equal(informer.handlers.add.size, 0, "its informer handlers are removed");
  });
});
