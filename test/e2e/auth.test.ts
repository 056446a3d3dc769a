// Authorization and identity through the real kubectl: RBAC decides (403 with kube's text),
// `kubectl auth can-i` (also --list and --as), `kubectl auth whoami`, impersonation with
// --as, ClusterRole aggregation, and a tenant's bindings granting nothing in another tenant.

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import YAML from "yaml";
import { after, before, describe, test } from "node:test";
import { generateCA, issueCertificate } from "../../apiserver/src/server/pki.ts";
import { rawRequest as raw, type RawResponse } from "../support/https.ts";
import {
  startMultiplane,
  type KubectlOptions,
  type KubectlOutcome,
  type TestMultiplane,
} from "../support/multiplane.ts";
import { eventually } from "../support/eventually.ts";

const alice = { token: "alice-token-0123456789abcdef", name: "alice", groups: ["dev"] };
const bob = { token: "bob-token-0123456789abcdef0", name: "bob" };
const carol = { token: "carol-token-0123456789abcdef", name: "carol" };

let mp: TestMultiplane;

before(async () => {
  mp = await startMultiplane({ users: [alice, bob, carol] });
  mp.tenants.addTenant({ name: "auth-a", uid: "7a1c3a52-0000-4000-8000-0000000000aa" });
  mp.tenants.addTenant({ name: "auth-b", uid: "7a1c3a52-0000-4000-8000-0000000000bb" });
});
after(async () => {
  await mp?.destroy();
});

/** Runs kubectl and answers its stdout and stderr whether it succeeded or not. */
const outcome = (args: readonly string[], opts: KubectlOptions = {}): Promise<KubectlOutcome> =>
  mp.kubectlOutcome(args, opts);

const canI = async (args: readonly string[], opts: { token?: string; tenant?: string } = {}) =>
  (await outcome(["auth", "can-i", ...args], opts)).stdout.trim();

/** RBAC follows the tenant's watch, as kube's follows its informers: wait for a grant to show. */

describe("RBAC through kubectl", () => {
  test("the admin (system:masters) may do everything", async () => {
    assert.equal(await canI(["create", "configmaps"]), "yes");
    assert.equal(await canI(["*", "*"]), "yes");
  });

  test("a user without bindings is refused with kube's 403 text", async () => {
    const r = await outcome(["get", "configmaps", "-n", "default"], { token: alice.token });
    assert.equal(r.ok, false);
    assert.match(
      r.stderr,
      /configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "default"/,
    );
    assert.equal(await canI(["list", "configmaps"], { token: alice.token }), "no");
  });

  test("discovery and the basic-user reviews are open to every authenticated user", async () => {
    const resources = await mp.kubectl(["api-resources", "-o", "name"], { token: bob.token });
    assert.ok(resources.split("\n").includes("configmaps"));
    assert.equal(await canI(["create", "selfsubjectaccessreviews"], { token: bob.token }), "yes");
  });

  test("a RoleBinding grants in its namespace only; resourceNames limit to named requests", async () => {
    await mp.kubectl(["create", "namespace", "team"]);
    await mp.kubectl([
      "create",
      "role",
      "cm-reader",
      "-n",
      "team",
      "--verb=get,list",
      "--resource=configmaps",
    ]);
    await mp.kubectl([
      "create",
      "rolebinding",
      "alice-reads",
      "-n",
      "team",
      "--role=cm-reader",
      "--user=alice",
    ]);
    await mp.kubectl(["create", "configmap", "settings", "-n", "team", "--from-literal=a=1"]);
    await eventually(
      "alice's grant",
      async () => (await canI(["list", "configmaps", "-n", "team"], { token: alice.token })) === "yes",
    );
    const listed = await mp.kubectl(["get", "configmaps", "-n", "team", "-o", "name"], {
      token: alice.token,
    });
    assert.match(listed, /configmap\/settings/);
    assert.equal(await canI(["delete", "configmaps", "-n", "team"], { token: alice.token }), "no");
    assert.equal(await canI(["list", "configmaps", "-n", "default"], { token: alice.token }), "no");
    assert.equal(await canI(["list", "secrets", "-n", "team"], { token: alice.token }), "no");
    const del = await outcome(["delete", "configmap", "settings", "-n", "team"], { token: alice.token });
    assert.match(
      del.stderr,
      /configmaps "settings" is forbidden: User "alice" cannot delete resource "configmaps" in API group "" in the namespace "team"/,
    );

    await mp.kubectl([
      "create",
      "role",
      "one-secret",
      "-n",
      "team",
      "--verb=get",
      "--resource=secrets",
      "--resource-name=allowed",
    ]);
    await mp.kubectl([
      "create",
      "rolebinding",
      "dev-secret",
      "-n",
      "team",
      "--role=one-secret",
      "--group=dev",
    ]);
    await eventually(
      "the group's grant",
      async () => (await canI(["get", "secrets/allowed", "-n", "team"], { token: alice.token })) === "yes",
    );
    assert.equal(await canI(["get", "secrets/other", "-n", "team"], { token: alice.token }), "no");
    assert.equal(await canI(["list", "secrets", "-n", "team"], { token: alice.token }), "no");
  });

  test("auth can-i --list shows the rules RBAC grants in the namespace", async () => {
    const out = await mp.kubectl(["auth", "can-i", "--list", "-n", "team"], { token: alice.token });
    assert.match(out, /configmaps\s+\[\]\s+\[\]\s+\[get list\]/);
    assert.match(out, /secrets\s+\[\]\s+\[allowed\]\s+\[get\]/);
    assert.match(out, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
    assert.match(out, /\[\/api\/\*\]\s+\[\]\s+\[get\]/);
  });

  test("SubjectAccessReview and LocalSubjectAccessReview answer for another user, and refuse bad specs", async () => {
    const sar = (body: object, path = "/apis/authorization.k8s.io/v1/subjectaccessreviews") =>
      mp.kubectl(["create", "--raw", path, "-f", "-"], { input: JSON.stringify(body) });
    const asAlice = JSON.parse(
      await sar({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: "alice",
          groups: ["dev"],
          resourceAttributes: { namespace: "team", verb: "list", resource: "configmaps" },
        },
      }),
    ) as { status: { allowed: boolean; reason?: string } };
    assert.equal(asAlice.status.allowed, true);
    assert.match(asAlice.status.reason ?? "", /RBAC: allowed by RoleBinding "alice-reads\/team"/);
    const local = JSON.parse(
      await sar(
        {
          apiVersion: "authorization.k8s.io/v1",
          kind: "LocalSubjectAccessReview",
          metadata: { namespace: "team" },
          spec: {
            user: "alice",
            resourceAttributes: { namespace: "team", verb: "delete", resource: "configmaps" },
          },
        },
        "/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews",
      ),
    ) as { status: { allowed: boolean } };
    assert.equal(local.status.allowed, false);
    await assert.rejects(
      sar({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { resourceAttributes: { verb: "get", resource: "pods" } },
      }),
      /spec.user: Invalid value: "": at least one of user or group must be specified/,
    );
  });

  test("auth whoami names the user and its groups", async () => {
    const out = await mp.kubectl(["auth", "whoami", "-o", "json"], { token: alice.token });
    const review = JSON.parse(out) as {
      kind: string;
      status: { userInfo: { username: string; groups: string[] } };
    };
    assert.equal(review.kind, "SelfSubjectReview");
    assert.equal(review.status.userInfo.username, "alice");
    assert.deepEqual(review.status.userInfo.groups, ["dev", "system:authenticated"]);
  });

  test("--as impersonates when the impersonate verb is granted, and is refused otherwise", async () => {
    // The admin may impersonate anyone.
    assert.equal(await canI(["list", "configmaps", "-n", "team", "--as=alice"]), "yes");
    assert.equal(await canI(["list", "configmaps", "-n", "team", "--as=bob"]), "no");
    const asAlice = await mp.kubectl(["get", "configmaps", "-n", "team", "-o", "name", "--as=alice"]);
    assert.match(asAlice, /configmap\/settings/);
    const whoami = JSON.parse(
      await mp.kubectl(["auth", "whoami", "-o", "json", "--as=bob", "--as-group=qa"]),
    ) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    assert.equal(whoami.status.userInfo.username, "bob");
    assert.deepEqual(whoami.status.userInfo.groups, ["qa", "system:authenticated"]);

    // bob may not impersonate.
    const refused = await outcome(["get", "configmaps", "-n", "team", "--as=alice"], { token: bob.token });
    assert.match(
      refused.stderr,
      /users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );
    // Once granted on users named alice, bob acts as alice (and only as alice).
    await mp.kubectl([
      "create",
      "clusterrole",
      "impersonate-alice",
      "--verb=impersonate",
      "--resource=users",
      "--resource-name=alice",
    ]);
    await mp.kubectl([
      "create",
      "clusterrolebinding",
      "bob-impersonates",
      "--clusterrole=impersonate-alice",
      "--user=bob",
    ]);
    await eventually(
      "bob's impersonation grant",
      async () => (await outcome(["get", "configmaps", "-n", "team", "--as=alice"], { token: bob.token })).ok,
    );
    const asOther = await outcome(["get", "configmaps", "-n", "team", "--as=carol"], { token: bob.token });
    assert.match(
      asOther.stderr,
      /users "carol" is forbidden: User "bob" cannot impersonate resource "users"/,
    );
    // Groups must be granted too.
    const withGroup = await outcome(["get", "configmaps", "-n", "team", "--as=alice", "--as-group=admins"], {
      token: bob.token,
    });
    assert.match(
      withGroup.stderr,
      /groups "admins" is forbidden: User "bob" cannot impersonate resource "groups"/,
    );
  });

  test("a ClusterRole labelled aggregate-to-view adds its rules to view", async () => {
    await mp.kubectl(["create", "clusterrolebinding", "alice-views", "--clusterrole=view", "--user=alice"]);
    assert.equal(
      await canI(["list", "leases.coordination.k8s.io", "-n", "team"], { token: alice.token }),
      "no",
    );
    await mp.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "leases-view", labels: { "rbac.authorization.k8s.io/aggregate-to-view": "true" } },
        rules: [
          { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch"] },
        ],
      }),
    });
    await eventually(
      "view to aggregate leases",
      async () =>
        (await canI(["list", "leases.coordination.k8s.io", "-n", "team"], { token: alice.token })) === "yes",
    );
    const view = JSON.parse(await mp.kubectl(["get", "clusterrole", "view", "-o", "json"])) as {
      rules: { resources?: string[] }[];
    };
    assert.ok(view.rules.some((r) => r.resources?.includes("leases")));
    // ...and admin and edit, which aggregate view.
    const admin = JSON.parse(await mp.kubectl(["get", "clusterrole", "admin", "-o", "json"])) as {
      rules: { resources?: string[] }[];
    };
    assert.ok(admin.rules.some((r) => r.resources?.includes("leases")));
  });

  test("every tenant starts with kube's default roles and bindings", async () => {
    const roles = await mp.kubectl(["get", "clusterroles", "-o", "name"], { tenant: "auth-a" });
    for (const r of ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user"]) {
      assert.match(roles, new RegExp(`clusterrole.rbac.authorization.k8s.io/${r}\\n`));
    }
    const bindings = await mp.kubectl(["get", "clusterrolebindings", "-o", "name"], { tenant: "auth-a" });
    assert.match(bindings, /clusterrolebinding.rbac.authorization.k8s.io\/cluster-admin\n/);
  });

  test("a binding in one tenant grants nothing in another", async () => {
    const a = { tenant: "auth-a" };
    await mp.kubectl(
      ["create", "clusterrolebinding", "bob-admin", "--clusterrole=cluster-admin", "--user=bob"],
      a,
    );
    await eventually(
      "bob's grant in tenant a",
      async () => (await canI(["delete", "namespaces"], { ...a, token: bob.token })) === "yes",
    );
    assert.equal(await canI(["delete", "namespaces"], { tenant: "auth-b", token: bob.token }), "no");
    const r = await outcome(["get", "secrets", "-A"], { tenant: "auth-b", token: bob.token });
    assert.match(
      r.stderr,
      /secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" at the cluster scope/,
    );
  });

  test("escalation: a user may grant only what they hold, unless granted escalate or bind", async () => {
    // carol administers RBAC in namespace esc (create roles and bindings) and reads configmaps there.
    await mp.kubectl(["create", "namespace", "esc"]);
    await mp.kubectl([
      "create",
      "role",
      "rbac-manager",
      "-n",
      "esc",
      "--verb=create,update,get,list",
      "--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,configmaps",
    ]);
    await mp.kubectl([
      "create",
      "rolebinding",
      "carol-rbac",
      "-n",
      "esc",
      "--role=rbac-manager",
      "--user=carol",
    ]);
    await eventually(
      "carol's grant",
      async () => (await canI(["create", "roles", "-n", "esc"], { token: carol.token })) === "yes",
    );
    // A role within carol's own rights is fine…
    await mp.kubectl(["create", "role", "cm-get", "-n", "esc", "--verb=get", "--resource=configmaps"], {
      token: carol.token,
    });
    // …one with more is refused with kube's text, and nothing is stored.
    const refused = await outcome(
      ["create", "role", "secret-get", "-n", "esc", "--verb=get,list", "--resource=secrets"],
      { token: carol.token },
    );
    assert.match(
      refused.stderr,
      /roles.rbac.authorization.k8s.io "secret-get" is forbidden: user "carol" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["get" "list"\]\}/,
    );
    assert.equal((await outcome(["get", "role", "secret-get", "-n", "esc"])).ok, false);
    // Binding a role carol holds is fine; binding edit (more than she holds) is refused.
    await mp.kubectl(["create", "rolebinding", "dave-cm", "-n", "esc", "--role=cm-get", "--user=dave"], {
      token: carol.token,
    });
    const bindEdit = await outcome(
      ["create", "rolebinding", "dave-edit", "-n", "esc", "--clusterrole=edit", "--user=dave"],
      { token: carol.token },
    );
    assert.match(
      bindEdit.stderr,
      /rolebindings.rbac.authorization.k8s.io "dave-edit" is forbidden: user "carol"/,
    );
    // With the bind verb on clusterrole edit, she may bind it without holding it.
    await mp.kubectl([
      "create",
      "role",
      "bind-edit",
      "-n",
      "esc",
      "--verb=bind",
      "--resource=clusterroles.rbac.authorization.k8s.io",
      "--resource-name=edit",
    ]);
    await mp.kubectl([
      "create",
      "rolebinding",
      "carol-bind",
      "-n",
      "esc",
      "--role=bind-edit",
      "--user=carol",
    ]);
    await eventually(
      "carol's bind grant",
      async () =>
        (
          await outcome(
            ["create", "rolebinding", "dave-edit", "-n", "esc", "--clusterrole=edit", "--user=dave"],
            {
              token: carol.token,
            },
          )
        ).ok,
    );
  });

  test("object-count quotas refuse the object past the limit and report usage", async () => {
    await mp.kubectl(["create", "namespace", "quota"]);
    await mp.kubectl(["create", "quota", "cm-quota", "-n", "quota", "--hard=count/configmaps=2,secrets=1"]);
    await mp.kubectl(["create", "configmap", "one", "-n", "quota"]);
    await mp.kubectl(["create", "configmap", "two", "-n", "quota"]);
    await eventually("the quota's status", async () => {
      const q = JSON.parse(await mp.kubectl(["get", "quota", "cm-quota", "-n", "quota", "-o", "json"])) as {
        status?: { used?: Record<string, string>; hard?: Record<string, string> };
      };
      return q.status?.used?.["count/configmaps"] === "2" && q.status.hard?.["secrets"] === "1";
    });
    const third = await outcome(["create", "configmap", "three", "-n", "quota"]);
    assert.match(
      third.stderr,
      /configmaps "three" is forbidden: exceeded quota: cm-quota, requested: count\/configmaps=1, used: count\/configmaps=2, limited: count\/configmaps=2/,
    );
    await mp.kubectl(["delete", "configmap", "one", "-n", "quota"]);
    await eventually("room", async () => (await outcome(["create", "configmap", "three", "-n", "quota"])).ok);
  });
});

/** An HTTPS request to the server (the router; `base` another) with optional client certificate and headers. */
async function rawRequest(
  path: string,
  opts: {
    headers?: Record<string, string>;
    cert?: { certPem: string; keyPem: string };
    base?: string;
    method?: string;
    body?: string;
  } = {},
): Promise<RawResponse> {
  const { base = mp.url, ...rest } = opts;
  return raw(base, await readFile(join(mp.dataDir, "pki", "ca.crt"), "utf8"), path, rest);
}

async function pkiPair(name: string): Promise<{ certPem: string; keyPem: string }> {
  const dir = join(mp.dataDir, "pki");
  return {
    certPem: await readFile(join(dir, `${name}.crt`), "utf8"),
    keyPem: await readFile(join(dir, `${name}.key`), "utf8"),
  };
}

const whoami = async (opts: { token?: string; tenant?: string; args?: string[] } = {}) =>
  (
    JSON.parse(await mp.kubectl(["auth", "whoami", "-o", "json", ...(opts.args ?? [])], opts)) as {
      status: {
        userInfo: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
      };
    }
  ).status.userInfo;

describe("authentication through kubectl", () => {
  test("kubectl create token: a bound ServiceAccount token authenticates until the ServiceAccount is gone", async () => {
    await mp.kubectl(["create", "namespace", "robots"]);
    await mp.kubectl(["create", "serviceaccount", "builder", "-n", "robots"]);
    const token = (await mp.kubectl(["create", "token", "builder", "-n", "robots", "--duration=20m"])).trim();
    assert.equal(token.split(".").length, 3);
    const user = await whoami({ token });
    assert.equal(user.username, "system:serviceaccount:robots:builder");
    assert.deepEqual(user.groups, [
      "system:serviceaccounts",
      "system:serviceaccounts:robots",
      "system:authenticated",
    ]);
    // RBAC sees the ServiceAccount subject.
    await mp.kubectl([
      "create",
      "rolebinding",
      "builder-view",
      "-n",
      "robots",
      "--clusterrole=view",
      "--serviceaccount=robots:builder",
    ]);
    await eventually(
      "the SA's grant",
      async () => (await canI(["list", "configmaps", "-n", "robots"], { token })) === "yes",
    );
    // A token of this tenant is worthless at another.
    const elsewhere = await outcome(["get", "configmaps"], { token, tenant: "auth-a" });
    assert.match(elsewhere.stderr, /Unauthorized|must be logged in/);
    // Too short a duration is refused as kube refuses it.
    const short = await outcome(["create", "token", "builder", "-n", "robots", "--duration=1m"]);
    assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
    // Deleting the ServiceAccount revokes its tokens.
    await mp.kubectl(["delete", "serviceaccount", "builder", "-n", "robots"]);
    await eventually(
      "revocation",
      async () => !(await outcome(["get", "configmaps", "-n", "robots"], { token })).ok,
    );
    const after = await outcome(["get", "configmaps", "-n", "robots"], { token });
    assert.match(after.stderr, /Unauthorized|must be logged in/);
  });

  test("legacy Secret-based tokens: the token controller fills the Secret; deleting the ServiceAccount deletes it", async () => {
    await mp.kubectl(["create", "namespace", "legacy"]);
    await mp.kubectl(["create", "serviceaccount", "old-bot", "-n", "legacy"]);
    await mp.kubectl(["apply", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/service-account-token",
        metadata: {
          name: "old-bot-token",
          namespace: "legacy",
          annotations: { "kubernetes.io/service-account.name": "old-bot" },
        },
      }),
    });
    let secret:
      { data?: Record<string, string>; metadata: { annotations: Record<string, string> } } | undefined;
    await eventually("the token controller", async () => {
      secret = JSON.parse(
        await mp.kubectl(["get", "secret", "old-bot-token", "-n", "legacy", "-o", "json"]),
      ) as NonNullable<typeof secret>;
      return secret.data?.["token"] !== undefined;
    });
    const sa = JSON.parse(await mp.kubectl(["get", "sa", "old-bot", "-n", "legacy", "-o", "json"])) as {
      metadata: { uid: string };
    };
    assert.equal(secret!.metadata.annotations["kubernetes.io/service-account.uid"], sa.metadata.uid);
    assert.equal(Buffer.from(secret!.data!["namespace"]!, "base64").toString(), "legacy");
    assert.match(Buffer.from(secret!.data!["ca.crt"]!, "base64").toString(), /BEGIN CERTIFICATE/);
    const token = Buffer.from(secret!.data!["token"]!, "base64").toString();
    assert.equal((await whoami({ token })).username, "system:serviceaccount:legacy:old-bot");
    await mp.kubectl(["delete", "serviceaccount", "old-bot", "-n", "legacy"]);
    await eventually(
      "the Secret's deletion",
      async () => !(await outcome(["get", "secret", "old-bot-token", "-n", "legacy"])).ok,
    );
    const after = await outcome(["auth", "whoami"], { token });
    assert.equal(after.ok, false);
  });

  test("a client certificate of the cluster CA authenticates: CN is the user, O the groups", async () => {
    const client = await issueCertificate(await pkiPair("ca"), {
      commonName: "cert-user",
      organizations: ["auditors", "devs"],
      usage: "client",
    });
    const certFile = join(mp.dataDir, "cert-user.crt");
    const keyFile = join(mp.dataDir, "cert-user.key");
    await writeFile(certFile, client.certPem);
    await writeFile(keyFile, client.keyPem, { mode: 0o600 });
    const kubeconfig = join(mp.dataDir, "cert-user.kubeconfig");
    const config = YAML.parse(await readFile(mp.kubeconfigPath, "utf8")) as {
      users: { user: Record<string, string> }[];
    };
    config.users[0]!.user = { "client-certificate": certFile, "client-key": keyFile };
    await writeFile(kubeconfig, YAML.stringify(config));
    const out = await mp.kubectl(["auth", "whoami", "-o", "json"], {
      env: { KUBECONFIG: kubeconfig },
      kubeconfig,
    });
    const user = (JSON.parse(out) as { status: { userInfo: { username: string; groups: string[] } } }).status
      .userInfo;
    assert.equal(user.username, "cert-user");
    assert.deepEqual(user.groups, ["auditors", "devs", "system:authenticated"]);
    // A certificate of another CA is nobody.
    const stranger = await issueCertificate(await generateCA("stranger-ca"), {
      commonName: "admin",
      organizations: ["system:masters"],
      usage: "client",
    });
    const res = await rawRequest("/api/v1/namespaces", { cert: stranger });
    assert.equal(res.status, 401);
  });

  test("X-Remote-User is ignored unless it comes over mTLS with the router's certificate", async () => {
    // At the shard itself (behind `up`'s router, which drops these headers from clients).
    const shard = mp.shardURL;
    const spoof = { "X-Remote-User": "admin", "X-Remote-Group": "system:masters" };
    // No credential but the headers: unauthorized.
    assert.equal((await rawRequest("/api/v1/namespaces", { base: shard, headers: spoof })).status, 401);
    // A valid token plus the headers: the token's user, never the header's.
    const asBob = await rawRequest("/api/v1/namespaces", {
      base: shard,
      headers: { ...spoof, Authorization: `Bearer ${bob.token}` },
    });
    assert.equal(asBob.status, 403);
    assert.match(asBob.body, /User \\"bob\\" cannot list resource \\"namespaces\\"/);
    // A client certificate of the cluster CA (not the router's CA) does not make the headers count.
    const notRouter = await issueCertificate(await pkiPair("ca"), {
      commonName: "multiplane-router",
      usage: "client",
    });
    const r1 = await rawRequest("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      base: shard,
      headers: spoof,
      cert: notRouter,
    });
    assert.notEqual(r1.status, 200);
    // The router's CA but a CN not allowed: ignored too.
    const wrongName = await issueCertificate(await pkiPair("requestheader-ca"), {
      commonName: "someone-else",
      usage: "client",
    });
    assert.equal(
      (await rawRequest("/api/v1/namespaces", { base: shard, headers: spoof, cert: wrongName })).status,
      401,
    );
    // The router's certificate: the headers name the user.
    const router = await issueCertificate(await pkiPair("requestheader-ca"), {
      commonName: "multiplane-router",
      usage: "client",
    });
    const ok = await rawRequest("/api/v1/namespaces", { base: shard, headers: spoof, cert: router });
    assert.equal(ok.status, 200);
  });

  test("X-Remote-* and a router certificate sent to up's router count for nothing at its in-process shard", async () => {
    // The router hands requests to the shard of its own process without the network: the
    // identity headers the shard believes are the ones the router made, never a client's.
    const spoof = { "X-Remote-User": "admin", "X-Remote-Group": "system:masters" };
    assert.equal((await rawRequest("/api/v1/namespaces", { headers: spoof })).status, 401);
    const asBob = await rawRequest("/api/v1/namespaces", {
      headers: { ...spoof, Authorization: `Bearer ${bob.token}` },
    });
    assert.equal(asBob.status, 403);
    assert.match(asBob.body, /User \\"bob\\" cannot list resource \\"namespaces\\"/);
    // The router's own client certificate, presented by a client: the router is the edge, and
    // a certificate of the requestheader CA is no client credential there.
    const routerCert = await pkiPair("router-client");
    assert.equal((await rawRequest("/api/v1/namespaces", { headers: spoof, cert: routerCert })).status, 401);
    // Bodies reach the shard whole, and one past kube's 3 MiB limit is a 413 Status.
    const review = await rawRequest("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      method: "POST",
      headers: { Authorization: `Bearer ${bob.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { verb: "list", resource: "namespaces" } },
      }),
    });
    assert.equal(review.status, 201);
    assert.equal(
      (JSON.parse(review.body) as { spec: { resourceAttributes: { verb: string } } }).spec.resourceAttributes
        .verb,
      "list",
    );
    const tooLarge = await rawRequest("/api/v1/namespaces/default/configmaps", {
      method: "POST",
      headers: { Authorization: `Bearer ${bob.token}`, "Content-Type": "application/json" },
      body: "x".repeat(3 * 1024 * 1024 + 1),
    });
    assert.equal(tooLarge.status, 413);
    assert.equal((JSON.parse(tooLarge.body) as { reason: string }).reason, "RequestEntityTooLarge");
  });

  test("the service-account issuer's discovery documents are public", async () => {
    const config = await rawRequest("/.well-known/openid-configuration");
    assert.equal(config.status, 200);
    const doc = JSON.parse(config.body) as {
      issuer: string;
      jwks_uri: string;
      id_token_signing_alg_values_supported: string[];
    };
    assert.equal(doc.jwks_uri, `${doc.issuer}/openid/v1/jwks`);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ["ES256"]);
    const jwks = await rawRequest("/openid/v1/jwks");
    assert.equal(jwks.status, 200);
    assert.equal(jwks.headers["content-type"], "application/jwk-set+json");
    const keys = (JSON.parse(jwks.body) as { keys: { kty: string; alg?: string; d?: string }[] }).keys;
    assert.ok(keys.length >= 1);
    for (const k of keys) {
      assert.equal(k.kty, "EC");
      assert.equal(k.d, undefined, "no private part is published");
    }
    // Anything else needs credentials.
    assert.equal((await rawRequest("/api")).status, 401);
    assert.equal((await rawRequest("/healthz")).status, 200);
  });
});
