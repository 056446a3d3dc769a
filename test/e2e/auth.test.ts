// Authorization and identity through the real kubectl: RBAC decides (403 with kube's text),
// `kubectl auth can-i` (also --list and --as), `kubectl auth whoami`, impersonation with
// --as, ClusterRole aggregation, and a tenant's bindings granting nothing in another tenant.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startMultiplane, type TestMultiplane } from "../support/multiplane.ts";

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
async function outcome(
  args: readonly string[],
  opts: { token?: string; tenant?: string } = {},
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    return { ok: true, stdout: await mp.kubectl(args, opts), stderr: "" };
  } catch (err) {
    const cause = (err as { cause?: { stdout?: string; stderr?: string } }).cause;
    return { ok: false, stdout: cause?.stdout ?? "", stderr: cause?.stderr ?? String(err) };
  }
}

const canI = async (args: readonly string[], opts: { token?: string; tenant?: string } = {}) =>
  (await outcome(["auth", "can-i", ...args], opts)).stdout.trim();

/** RBAC follows the tenant's watch, as kube's follows its informers: wait for a grant to show. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
      async () => (await canI(["list", "configmaps", "-n", "team"], { token: alice.token })) === "yes",
      "alice's grant",
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
      async () => (await canI(["get", "secrets/allowed", "-n", "team"], { token: alice.token })) === "yes",
      "the group's grant",
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
      async () => (await outcome(["get", "configmaps", "-n", "team", "--as=alice"], { token: bob.token })).ok,
      "bob's impersonation grant",
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
      async () =>
        (await canI(["list", "leases.coordination.k8s.io", "-n", "team"], { token: alice.token })) === "yes",
      "view to aggregate leases",
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
      async () => (await canI(["delete", "namespaces"], { ...a, token: bob.token })) === "yes",
      "bob's grant in tenant a",
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
      async () => (await canI(["create", "roles", "-n", "esc"], { token: carol.token })) === "yes",
      "carol's grant",
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
      async () =>
        (
          await outcome(
            ["create", "rolebinding", "dave-edit", "-n", "esc", "--clusterrole=edit", "--user=dave"],
            {
              token: carol.token,
            },
          )
        ).ok,
      "carol's bind grant",
    );
  });

  test("object-count quotas refuse the object past the limit and report usage", async () => {
    await mp.kubectl(["create", "namespace", "quota"]);
    await mp.kubectl(["create", "quota", "cm-quota", "-n", "quota", "--hard=count/configmaps=2,secrets=1"]);
    await mp.kubectl(["create", "configmap", "one", "-n", "quota"]);
    await mp.kubectl(["create", "configmap", "two", "-n", "quota"]);
    await eventually(async () => {
      const q = JSON.parse(await mp.kubectl(["get", "quota", "cm-quota", "-n", "quota", "-o", "json"])) as {
        status?: { used?: Record<string, string>; hard?: Record<string, string> };
      };
      return q.status?.used?.["count/configmaps"] === "2" && q.status.hard?.["secrets"] === "1";
    }, "the quota's status");
    const third = await outcome(["create", "configmap", "three", "-n", "quota"]);
    assert.match(
      third.stderr,
      /configmaps "three" is forbidden: exceeded quota: cm-quota, requested: count\/configmaps=1, used: count\/configmaps=2, limited: count\/configmaps=2/,
    );
    await mp.kubectl(["delete", "configmap", "one", "-n", "quota"]);
    await eventually(async () => (await outcome(["create", "configmap", "three", "-n", "quota"])).ok, "room");
  });
});
