// The Helm chart's wiring, checked on real `helm template` output: the router's Service selects
// the router's pods; the shards' requestheader CA signed the router's client certificate; the
// serving certificate covers every name the components and clients use; the shards' etcd
// endpoints are the etcd members (or the external ones) and their TLS material matches; the
// StatefulSet's DNS names are what the router and shards are told; the JWT key Secret loads as
// Multiplane's key set; the NetworkPolicies and pod security hold. Schema validation of every
// rendered document is hack/verify-chart.sh's job.

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";

import { JwtKeySet } from "../../apiserver/src/authn/jwt-keys.ts";
import { requestHeaderAllowedNames } from "../../apiserver/src/cli/up.ts";
import { routerCommonName } from "../../apiserver/src/router/router-pki.ts";
import {
  at,
  containers,
  flag,
  mountedFile,
  mountedSecretKey,
  namespace,
  podSpec,
  render,
  secretData,
  type K8sObject,
  type Obj,
} from "./render.ts";

const cert = (pem: string): X509Certificate => new X509Certificate(pem);
const signedBy = (leaf: string, ca: string): boolean =>
  cert(leaf).checkIssued(cert(ca)) && cert(leaf).verify(cert(ca).publicKey);
const host = (url: string): string => new URL(url).hostname;
/** Whether a certificate is valid for a host name (a SAN equal to it, or a wildcard over it). */
const covers = (pem: string, name: string): boolean => cert(pem).checkHost(name) !== undefined;
const labelsMatch = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const names = {
  router: "multiplane-router",
  shard: "multiplane-shard",
  operator: "multiplane-operator",
  etcd: "multiplane-etcd",
};
const pki = "/var/lib/multiplane/pki";

describe("chart with default values", async () => {
  const r = await render();
  const router = r.get("Deployment", names.router);
  const shards = r.get("StatefulSet", names.shard);
  const operator = r.get("Deployment", names.operator);
  const [routerC] = containers(router);
  const [shardC] = containers(shards);
  const [operatorC] = containers(operator);
  assert.ok(routerC && shardC && operatorC);

  test("the router's Service selects the router's pods, and only them, on the router's port", () => {
    const svc = r.get("Service", names.router);
    const selector = at(svc, "spec.selector") as Record<string, string>;
    const podLabels = (w: K8sObject): Record<string, string> =>
      at(w, "spec.template.metadata.labels") as Record<string, string>;
    assert.ok(labelsMatch(selector, podLabels(router)));
    for (const other of [shards, operator, r.get("StatefulSet", names.etcd)]) {
      assert.ok(!labelsMatch(selector, podLabels(other)), `${other.metadata.name} is selected too`);
    }
    assert.ok(
      labelsMatch(at(router, "spec.selector.matchLabels") as Record<string, string>, podLabels(router)),
    );
    const targetPort = at(svc, "spec.ports.0.targetPort");
    const port = routerC.ports?.find((p) => p.name === targetPort);
    assert.ok(port, `targetPort ${String(targetPort)} is not a router container port`);
    assert.equal(flag(routerC, "port"), String(port.containerPort));
  });

  test("the shards' requestheader CA signed the router's client certificate, whose CN the shards allow", () => {
    const requestHeaderCA = mountedFile(r, shards, shardC, `${pki}/requestheader-ca.crt`);
    const client = mountedFile(r, router, routerC, `${pki}/router-client.crt`);
    assert.ok(signedBy(client, requestHeaderCA));
    assert.equal(cert(client).subject, `CN=${routerCommonName}`);
    assert.ok(requestHeaderAllowedNames.includes(routerCommonName));
    // The router's own view of the requestheader CA is the same certificate.
    assert.equal(mountedFile(r, router, routerC, `${pki}/requestheader-ca.crt`), requestHeaderCA);
    // ...and not the CA that signs serving and user certificates.
    assert.ok(!signedBy(client, mountedFile(r, shards, shardC, `${pki}/ca.crt`)));
  });

  test("the serving certificate is the CA's, for every name the router, the operator and clients use", () => {
    const ca = mountedFile(r, shards, shardC, `${pki}/ca.crt`);
    const serving = mountedFile(r, shards, shardC, `${pki}/serving.crt`);
    assert.ok(signedBy(serving, ca));
    assert.equal(mountedFile(r, router, routerC, `${pki}/serving.crt`), serving);
    assert.equal(mountedFile(r, router, routerC, `${pki}/ca.crt`), ca);
    assert.equal(mountedFile(r, operator, operatorC, `${pki}/ca.crt`), ca);
    const rootKubeconfig = parseYaml(
      mountedFile(r, operator, operatorC, `/etc/multiplane/root/kubeconfig`),
    ) as Obj;
    const advertise = (flag(shardC, "advertise-url") ?? "").replace("$(POD_NAME)", `${names.shard}-1`);
    const hosts = [
      host(advertise),
      host(flag(routerC, "root-url") ?? ""),
      host(flag(routerC, "external-url") ?? ""),
      host(at(rootKubeconfig, "clusters.0.cluster.server") as string),
    ];
    for (const h of hosts) assert.ok(covers(serving, h), `serving certificate lacks ${h}`);
  });

  test("the shards' StatefulSet: its headless Service, shard name = pod name, the DNS names the router is given", () => {
    const svcName = at(shards, "spec.serviceName") as string;
    const svc = r.get("Service", svcName);
    assert.equal(at(svc, "spec.clusterIP"), "None");
    const podLabels = at(shards, "spec.template.metadata.labels") as Record<string, string>;
    assert.ok(labelsMatch(at(svc, "spec.selector") as Record<string, string>, podLabels));
    assert.equal(at(shards, "spec.replicas"), 2);
    assert.equal(flag(shardC, "shard"), "$(POD_NAME)");
    const env = shardC["env"] as { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
    assert.equal(env.find((e) => e.name === "POD_NAME")?.valueFrom?.fieldRef?.fieldPath, "metadata.name");
    const port = shardC.ports?.[0]?.containerPort;
    assert.equal(flag(shardC, "port"), String(port));
    assert.equal(flag(shardC, "advertise-url"), `https://$(POD_NAME).${svcName}.${namespace}.svc:${port}`);
    assert.equal(flag(routerC, "root-url"), `https://${svcName}.${namespace}.svc:${port}`);
    assert.equal(at(svc, "spec.ports.0.port"), port);
  });

  test("bundled etcd: the shards' endpoints are its members, and the TLS material on both sides matches", () => {
    const etcd = r.get("StatefulSet", names.etcd);
    const [etcdC] = containers(etcd);
    assert.ok(etcdC);
    const svcName = at(etcd, "spec.serviceName") as string;
    assert.equal(at(r.get("Service", svcName), "spec.clusterIP"), "None");
    const replicas = at(etcd, "spec.replicas") as number;
    assert.equal(replicas, 3);
    const members = Array.from(
      { length: replicas },
      (_, i) => `${names.etcd}-${i}.${svcName}.${namespace}.svc`,
    );
    assert.deepEqual(
      flag(shardC, "etcd-endpoints")?.split(","),
      members.map((m) => `https://${m}:2379`),
    );
    assert.equal(
      flag(etcdC, "advertise-client-urls"),
      `https://$(POD_NAME).${svcName}.${namespace}.svc:2379`,
    );
    assert.deepEqual(
      flag(etcdC, "initial-cluster")?.split(","),
      members.map((m, i) => `${names.etcd}-${i}=https://${m}:2380`),
    );
    const etcdCA = mountedFile(r, etcd, etcdC, "/etc/etcd/tls/ca.crt");
    const server = mountedFile(r, etcd, etcdC, "/etc/etcd/tls/tls.crt");
    assert.ok(signedBy(server, etcdCA));
    for (const m of members) assert.ok(covers(server, m), m);
    assert.equal(mountedFile(r, shards, shardC, flag(shardC, "etcd-ca-file") ?? ""), etcdCA);
    assert.ok(signedBy(mountedFile(r, shards, shardC, flag(shardC, "etcd-cert-file") ?? ""), etcdCA));
    // A key file is mounted beside the certificate.
    assert.match(mountedFile(r, shards, shardC, flag(shardC, "etcd-key-file") ?? ""), /PRIVATE KEY/);
  });

  test("the JWT key Secret, mounted in the router, the shards and the operator, loads as Multiplane's key set", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mp-chart-jwt-"));
    after(() => rm(dir, { recursive: true, force: true }));
    const jwtSecret = r.get("Secret", "multiplane-jwt").metadata.name;
    for (const [w, c] of [
      [router, routerC],
      [shards, shardC],
      [operator, operatorC],
    ] as const) {
      assert.equal(mountedSecretKey(w, c, "/var/lib/multiplane/jwt/keys.json").secret, jwtSecret);
    }
    for (const [file, text] of Object.entries(secretData(r, jwtSecret)))
      await writeFile(join(dir, file), text);
    const keys = await JwtKeySet.load(dir);
    assert.equal(keys.verificationKeys.length, 1);
    assert.ok(keys.signingKey.kid.length > 0);
  });

  test("the operator's root kubeconfig reaches the router with a token from the token file the router and shards read", () => {
    const kubeconfig = parseYaml(
      mountedFile(r, operator, operatorC, "/etc/multiplane/root/kubeconfig"),
    ) as Obj;
    const token = at(kubeconfig, "users.0.user.token") as string;
    assert.ok(token.length >= 32);
    const svc = r.get("Service", names.router);
    assert.equal(
      at(kubeconfig, "clusters.0.cluster.server"),
      `https://${names.router}.${namespace}.svc:${String(at(svc, "spec.ports.0.port"))}`,
    );
    assert.equal(at(kubeconfig, "clusters.0.cluster.certificate-authority"), `${pki}/ca.crt`);
    for (const [w, c] of [
      [router, routerC],
      [shards, shardC],
    ] as const) {
      const line = mountedFile(r, w, c, "/var/lib/multiplane/tokens.csv").trim();
      assert.equal(line, `${token},multiplane-operator,multiplane-operator,"system:masters"`);
    }
    assert.equal(flag(operatorC, "kubeconfig"), "/etc/multiplane/host/kubeconfig");
    assert.equal(flag(operatorC, "lease-namespace"), namespace);
    assert.ok(operatorC.args?.includes("--leader-elect"));
    assert.equal(at(operator, "spec.replicas"), 2);
  });

  test("NetworkPolicies: only the router admits anyone; shards admit the router and operator; etcd the shards and operator", () => {
    const policy = (name: string): Obj[] => at(r.get("NetworkPolicy", name), "spec.ingress") as Obj[];
    const fromComponents = (rule: Obj | undefined): unknown[] =>
      ((rule?.["from"] as Obj[] | undefined) ?? []).map(
        (p) =>
          (at(p, "podSelector.matchLabels") as Record<string, string> | undefined)?.[
            "app.kubernetes.io/component"
          ],
      );
    assert.equal(policy(names.router)[0]?.["from"], undefined, "the router admits traffic from anywhere");
    assert.deepEqual(fromComponents(policy(names.shard)[0]), ["router", "operator"]);
    assert.deepEqual(fromComponents(policy(names.etcd)[0]), ["shard", "operator"]);
    assert.deepEqual(at(policy(names.etcd)[0], "ports.0.port"), "client");
    assert.deepEqual(fromComponents(policy(names.etcd)[1]), ["etcd"]);
    assert.deepEqual(policy(names.operator), []);
  });

  test("every workload: non-root, restricted securityContext, resource requests, probes on /livez and /readyz", () => {
    for (const w of [...r.all("Deployment"), ...r.all("StatefulSet")]) {
      const pod = podSpec(w);
      assert.equal(at(pod, "securityContext.runAsNonRoot"), true, w.metadata.name);
      assert.equal(at(pod, "securityContext.seccompProfile.type"), "RuntimeDefault", w.metadata.name);
      for (const c of containers(w)) {
        const what = `${w.metadata.name}/${c.name}`;
        assert.equal(at(c, "securityContext.allowPrivilegeEscalation"), false, what);
        assert.equal(at(c, "securityContext.readOnlyRootFilesystem"), true, what);
        assert.deepEqual(at(c, "securityContext.capabilities.drop"), ["ALL"], what);
        assert.ok(at(c, "resources.requests.cpu") && at(c, "resources.requests.memory"), what);
        assert.equal(at(c, "livenessProbe.httpGet.path"), "/livez", what);
        assert.equal(at(c, "readinessProbe.httpGet.path"), "/readyz", what);
      }
      const pdb = r
        .all("PodDisruptionBudget")
        .find((p) =>
          labelsMatch(
            at(p, "spec.selector.matchLabels") as Record<string, string>,
            at(w, "spec.template.metadata.labels") as Record<string, string>,
          ),
        );
      assert.ok(pdb, `${w.metadata.name} has no PodDisruptionBudget`);
    }
  });
});

test("shard count: the StatefulSet's replicas", async () => {
  const r = await render([], ["shards.count=5"]);
  assert.equal(at(r.get("StatefulSet", names.shard), "spec.replicas"), 5);
});

test("external etcd: the shards get the given endpoints and client certificate Secret; nothing of etcd is deployed", async () => {
  const r = await render(["ci/external-etcd-values.yaml"]);
  const shards = r.get("StatefulSet", names.shard);
  const [shardC] = containers(shards);
  assert.ok(shardC);
  assert.deepEqual(flag(shardC, "etcd-endpoints")?.split(","), [
    "https://etcd-0.example.com:2379",
    "https://etcd-1.example.com:2379",
    "https://etcd-2.example.com:2379",
  ]);
  assert.deepEqual(mountedSecretKey(shards, shardC, flag(shardC, "etcd-ca-file") ?? ""), {
    secret: "etcd-client-tls",
    key: "ca.crt",
  });
  assert.equal(r.find("StatefulSet", names.etcd), undefined);
  assert.equal(r.find("NetworkPolicy", names.etcd), undefined);
  assert.equal(r.all("Secret").filter((s) => s.metadata.name.includes("etcd")).length, 0);
  assert.equal(at(r.get("Service", names.router), "spec.type"), "LoadBalancer");
  // The public name is on the serving certificate, and every tenant host under the base domain.
  const serving = secretData(r, "multiplane-serving")["tls.crt"] ?? "";
  assert.ok(covers(serving, "multiplane.example.com"));
  assert.ok(covers(serving, "acme.multiplane.example.com"));
  assert.ok(!covers(serving, "evil.example.com"));
  assert.equal(
    flag(containers(r.get("Deployment", names.router))[0]!, "base-domain"),
    "multiplane.example.com",
  );
});

test("cert-manager: the pods mount the Secrets of Certificates, and the router's client certificate comes from the requestheader CA the shards trust", async () => {
  const r = await render(["ci/cert-manager-values.yaml"]);
  assert.equal(r.all("Secret").filter((s) => s["type"] === "kubernetes.io/tls").length, 0);
  const certificates = new Map(r.all("Certificate").map((c) => [at(c, "spec.secretName") as string, c]));
  const issuers = new Map(r.all("Issuer").map((i) => [i.metadata.name, i]));
  const shards = r.get("StatefulSet", names.shard);
  const router = r.get("Deployment", names.router);
  const [shardC] = containers(shards);
  const [routerC] = containers(router);
  assert.ok(shardC && routerC);
  const caSecretOf = (secret: string): string => {
    const c = certificates.get(secret);
    assert.ok(c, `no Certificate writes Secret ${secret}`);
    const issuer = issuers.get(at(c, "spec.issuerRef.name") as string);
    assert.ok(issuer, `Certificate ${c.metadata.name}: no Issuer`);
    return (at(issuer, "spec.ca.secretName") as string | undefined) ?? "(self-signed)";
  };
  const requestHeaderCA = mountedSecretKey(shards, shardC, `${pki}/requestheader-ca.crt`);
  const client = mountedSecretKey(router, routerC, `${pki}/router-client.crt`);
  assert.equal(caSecretOf(client.secret), requestHeaderCA.secret);
  assert.equal(at(certificates.get(client.secret), "spec.commonName"), routerCommonName);
  assert.equal(caSecretOf(requestHeaderCA.secret), "(self-signed)");
  const serving = mountedSecretKey(shards, shardC, `${pki}/serving.crt`);
  assert.equal(caSecretOf(serving.secret), mountedSecretKey(shards, shardC, `${pki}/ca.crt`).secret);
  const etcdClient = mountedSecretKey(shards, shardC, flag(shardC, "etcd-cert-file") ?? "");
  const etcd = r.get("StatefulSet", names.etcd);
  const etcdServer = mountedSecretKey(etcd, containers(etcd)[0]!, "/etc/etcd/tls/tls.crt");
  assert.equal(caSecretOf(etcdClient.secret), caSecretOf(etcdServer.secret));
  for (const c of certificates.values()) {
    assert.deepEqual(
      { ...(at(c, "spec.privateKey") as Obj), rotationPolicy: undefined },
      { algorithm: "ECDSA", size: 256, encoding: "PKCS8", rotationPolicy: undefined },
      `${c.metadata.name}: Multiplane reads P-256 keys in PKCS#8`,
    );
  }
});

test("values the schema refuses: helm template fails", async () => {
  for (const sets of [
    ["etcd.mode=external"],
    ["shards.count=0"],
    ["router.replicas=0"],
    ["etcd.mode=sqlite"],
    ["unknownSetting=1"],
    ["externalURL=http://plain.example.com"],
  ]) {
    await assert.rejects(
      render([], sets),
      /values don't meet the specifications of the schema/,
      sets.join(" "),
    );
  }
});
