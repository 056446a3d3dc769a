// The kubeconfig for OIDC sign-in: kubelogin's exec block as its documentation writes it (the
// client id is the issuer's first audience; its CA travels as --certificate-authority-data), one
// user and context per issuer, the first one current.

import assert from "node:assert/strict";
import { test } from "node:test";
import YAML from "yaml";
import { kubeloginExec, oidcKubeconfig } from "./oidc-kubeconfig.ts";

const caPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

test("kubelogin's exec block: kubectl oidc-login get-token, the first audience as client id", () => {
  assert.deepEqual(
    kubeloginExec({
      issuer: { url: "https://idp.example.com", audiences: ["kube", "other"] },
      claimMappings: { username: { claim: "email" } },
    }),
    {
      apiVersion: "client.authentication.k8s.io/v1",
      command: "kubectl",
      args: ["oidc-login", "get-token", "--oidc-issuer-url=https://idp.example.com", "--oidc-client-id=kube"],
      interactiveMode: "IfAvailable",
    },
  );
  const withCA = kubeloginExec({
    issuer: { url: "https://idp.example.com", audiences: ["kube"], certificateAuthority: caPem },
    claimMappings: { username: { claim: "email" } },
  });
  assert.deepEqual((withCA["args"] as string[]).slice(4), [`--certificate-authority-data=${b64(caPem)}`]);
  // A CA for a separate discovery URL is not the issuer's.
  const viaDiscovery = kubeloginExec({
    issuer: {
      url: "https://idp.example.com",
      discoveryURL: "https://idp.internal/.well-known/openid-configuration",
      audiences: ["kube"],
      certificateAuthority: caPem,
    },
    claimMappings: { username: { claim: "email" } },
  });
  assert.equal((viaDiscovery["args"] as string[]).length, 4);
});

test("one user and context per issuer, the first current; the cluster carries the server and its CA", () => {
  const doc = YAML.parse(
    oidcKubeconfig({
      name: "acme-web",
      server: "https://mp.example.com/clusters/acme:web",
      caPem,
      issuers: [
        {
          issuer: { url: "https://a.example.com", audiences: ["a"] },
          claimMappings: { username: { claim: "sub" } },
        },
        {
          issuer: { url: "https://b.example.com", audiences: ["b"] },
          claimMappings: { username: { claim: "sub" } },
        },
      ],
    }),
  ) as {
    clusters: { name: string; cluster: Record<string, string> }[];
    users: { name: string; user: { exec: { args: string[] } } }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    "current-context": string;
  };
  assert.deepEqual(doc.clusters, [
    {
      name: "acme-web",
      cluster: {
        server: "https://mp.example.com/clusters/acme:web",
        "certificate-authority-data": b64(caPem),
      },
    },
  ]);
  assert.deepEqual(
    doc.users.map((u) => [u.name, u.user.exec.args[2]]),
    [
      ["oidc", "--oidc-issuer-url=https://a.example.com"],
      ["oidc-2", "--oidc-issuer-url=https://b.example.com"],
    ],
  );
  assert.deepEqual(doc.contexts, [
    { name: "acme-web", context: { cluster: "acme-web", user: "oidc" } },
    { name: "acme-web-2", context: { cluster: "acme-web", user: "oidc-2" } },
  ]);
  assert.equal(doc["current-context"], "acme-web");
});
