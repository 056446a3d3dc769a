// Captures the request bodies the real kubectl sends, as fixtures for decode.test.ts.
//
//   node --import tsx apiserver/src/endpoints/protobuf/capture-fixtures.ts [--kubectl /usr/bin/kubectl] [--out DIR]
//
// Starts a throwaway HTTPS server on 127.0.0.1 (self-signed certificate made with the
// openssl CLI; the kubeconfig it writes says insecure-skip-tls-verify) that answers just
// the legacy discovery kubectl needs (/version says 1.32, so the dispatcher in front of
// /usr/bin/kubectl runs its 1.32 binary), records every request with a body, and answers
// it with a plausible JSON object. Each command's writes land in fixtures/<name>.json
// with their Content-Type and base64 body, exactly as received. Run by hand; the
// fixtures are committed, and the tests only read them.

import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as prettier from "prettier";

/**
 * The commands captured, by fixture name: the brief's eight first, then more writers that
 * reach other kinds and field shapes. "{work}" is the scratch directory holding the files
 * that `scratchFiles` writes.
 */
export const captureCommands: Readonly<Record<string, readonly string[]>> = {
  "create-configmap": ["create", "configmap", "c", "--from-literal=a=b", "--from-literal=x=y"],
  "create-secret-generic": ["create", "secret", "generic", "s", "--from-literal=k=v", "--type=Opaque"],
  "create-namespace": ["create", "namespace", "n"],
  "create-serviceaccount": ["create", "serviceaccount", "sa"],
  "auth-can-i-get-configmaps": ["auth", "can-i", "get", "configmaps", "-n", "default"],
  "auth-can-i-list": ["auth", "can-i", "--list"],
  "auth-whoami": ["auth", "whoami"],
  "create-token": ["create", "token", "sa", "--audience=a", "--duration=10m"],
  "create-token-defaults": ["create", "token", "sa"],
  "create-token-bound": [
    "create",
    "token",
    "sa",
    "--audience=x",
    "--audience=y",
    "--bound-object-kind=Pod",
    "--bound-object-name=p",
    "--bound-object-uid=9f0c1e0a-0000-4000-8000-000000000001",
  ],
  "auth-can-i-subresource": ["auth", "can-i", "create", "pods", "--subresource=exec", "-n", "kube-system"],
  "auth-can-i-nonresource": ["auth", "can-i", "get", "/healthz"],
  "auth-can-i-list-namespace": ["auth", "can-i", "--list", "-n", "kube-system"],
  "create-configmap-binary-file": [
    "create",
    "configmap",
    "bin",
    "--from-file={work}/blob.bin",
    "--from-literal=text=hello",
  ],
  "create-secret-generic-unicode": [
    "create",
    "secret",
    "generic",
    "bin",
    "--from-literal=z=",
    "--from-literal=u=\u00e9\u00fc",
  ],
  "create-secret-docker-registry": [
    "create",
    "secret",
    "docker-registry",
    "reg",
    "--docker-server=registry.example.com",
    "--docker-username=u",
    "--docker-password=p",
    "--docker-email=e@example.com",
  ],
  "create-role": [
    "create",
    "role",
    "r",
    "--verb=get,list",
    "--resource=pods,configmaps",
    "--resource-name=x",
  ],
  "create-clusterrole-aggregation": [
    "create",
    "clusterrole",
    "agg",
    "--aggregation-rule=rbac.example.com/aggregate=true",
  ],
  "create-clusterrole-nonresource": [
    "create",
    "clusterrole",
    "nr",
    "--verb=get",
    "--non-resource-url=/logs/*",
  ],
  "create-rolebinding": [
    "create",
    "rolebinding",
    "rb",
    "--role=r",
    "--user=alice",
    "--group=devs",
    "--serviceaccount=default:sa",
  ],
  "create-clusterrolebinding": ["create", "clusterrolebinding", "crb", "--clusterrole=view", "--user=bob"],
  "create-service-clusterip": ["create", "service", "clusterip", "svc", "--tcp=80:8080"],
  "create-service-nodeport": ["create", "service", "nodeport", "np", "--tcp=80:http", "--node-port=30080"],
  "create-service-externalname": ["create", "service", "externalname", "ext", "--external-name=example.com"],
  "create-quota": ["create", "quota", "q", "--hard=pods=10,requests.cpu=500m", "--scopes=NotBestEffort"],
  "create-from-file-lease": ["create", "-f", "{work}/lease.yaml", "--validate=false"],
  "delete-configmap": ["delete", "configmap", "c", "--wait=false"],
};

/** Files the commands above read from "{work}". */
const scratchFiles: Readonly<Record<string, Buffer>> = {
  // Not UTF-8, so kubectl puts it in binaryData.
  "blob.bin": Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]),
  "lease.yaml": Buffer.from(
    [
      "apiVersion: coordination.k8s.io/v1",
      "kind: Lease",
      "metadata:",
      "  name: l",
      "spec:",
      "  holderIdentity: h",
      "  leaseDurationSeconds: 15",
      "  renewTime: 2024-01-02T03:04:05.123456Z",
      "",
    ].join("\n"),
  ),
};

interface CapturedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string;
  userAgent: string;
  bodyBase64: string;
}

interface Fixture {
  /** The kubectl arguments; each request records the sending kubectl's User-Agent. */
  command: readonly string[];
  /** What `--kubectl` (1.32, which sends protobuf) sent. */
  requests: CapturedRequest[];
  /** What `--json-kubectl` (1.31, which sends JSON) sent for the same command: the expected JSON. */
  jsonRequests: CapturedRequest[];
}

const here = dirname(fileURLToPath(import.meta.url));

interface APIResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}
const crud = ["create", "delete", "get", "list"];
const resource = (name: string, kind: string, namespaced: boolean, verbs = crud): APIResource => ({
  name,
  kind,
  namespaced,
  verbs,
});

/** The resource lists of legacy discovery: what the captured commands look up. */
const resourceLists: Record<string, APIResource[]> = {
  "/api/v1": [
    resource("configmaps", "ConfigMap", true),
    resource("secrets", "Secret", true),
    resource("namespaces", "Namespace", false),
    resource("serviceaccounts", "ServiceAccount", true),
    resource("serviceaccounts/token", "TokenRequest", true, ["create"]),
    resource("services", "Service", true),
    resource("resourcequotas", "ResourceQuota", true),
    resource("limitranges", "LimitRange", true),
    resource("events", "Event", true),
    resource("pods", "Pod", true),
  ],
  "/apis/authorization.k8s.io/v1": [
    resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, ["create"]),
    resource("selfsubjectrulesreviews", "SelfSubjectRulesReview", false, ["create"]),
    resource("subjectaccessreviews", "SubjectAccessReview", false, ["create"]),
    resource("localsubjectaccessreviews", "LocalSubjectAccessReview", true, ["create"]),
  ],
  "/apis/authentication.k8s.io/v1": [
    resource("selfsubjectreviews", "SelfSubjectReview", false, ["create"]),
    resource("tokenreviews", "TokenReview", false, ["create"]),
  ],
  "/apis/rbac.authorization.k8s.io/v1": [
    resource("roles", "Role", true),
    resource("clusterroles", "ClusterRole", false),
    resource("rolebindings", "RoleBinding", true),
    resource("clusterrolebindings", "ClusterRoleBinding", false),
  ],
  "/apis/coordination.k8s.io/v1": [resource("leases", "Lease", true)],
};

const groups = [
  "authorization.k8s.io",
  "authentication.k8s.io",
  "rbac.authorization.k8s.io",
  "coordination.k8s.io",
];

function discovery(path: string): unknown {
  if (path === "/version") {
    return {
      major: "1",
      minor: "32",
      gitVersion: "v1.32.4",
      platform: "linux/amd64",
      goVersion: "go1.23.8",
      compiler: "gc",
    };
  }
  if (path === "/api") {
    return {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
    };
  }
  if (path === "/apis") {
    return {
      kind: "APIGroupList",
      apiVersion: "v1",
      groups: groups.map((name) => ({
        name,
        versions: [{ groupVersion: `${name}/v1`, version: "v1" }],
        preferredVersion: { groupVersion: `${name}/v1`, version: "v1" },
      })),
    };
  }
  const list = resourceLists[path];
  if (list === undefined) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: path === "/api/v1" ? "v1" : path.slice("/apis/".length),
    resources: list.map((r) => ({ ...r, singularName: "" })),
  };
}

/** A JSON answer to a write: what kube-apiserver would plausibly send back. */
function answer(method: string, path: string): { code: number; body: unknown } {
  const parts = path.split("/").filter((p) => p !== "");
  const gvPath = parts[0] === "api" ? `/api/${parts[1] ?? ""}` : `/apis/${parts[1] ?? ""}/${parts[2] ?? ""}`;
  const apiVersion = gvPath === "/api/v1" ? "v1" : gvPath.slice("/apis/".length);
  const rest = parts.slice(gvPath === "/api/v1" ? 2 : 3);
  const namespace = rest[0] === "namespaces" && rest.length > 2 ? rest[1] : undefined;
  const tail = namespace === undefined ? rest : rest.slice(2);
  const [resource = "", name, subresource] = tail;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  if (method === "DELETE") {
    return {
      code: 200,
      body: {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name, kind: resource },
      },
    };
  }
  if (subresource === "token") {
    return {
      code: 201,
      body: {
        kind: "TokenRequest",
        apiVersion: "authentication.k8s.io/v1",
        metadata: { name, namespace, creationTimestamp: null },
        spec: { audiences: ["a"], expirationSeconds: 600, boundObjectRef: null },
        status: { token: "captured.fake.token", expirationTimestamp: now },
      },
    };
  }
  const kind = resourceLists[gvPath]?.find((r) => r.name === resource)?.kind ?? "Unknown";
  const base = {
    kind,
    apiVersion,
    metadata: {
      name: name ?? "x",
      namespace,
      uid: "00000000-0000-0000-0000-000000000001",
      creationTimestamp: now,
    },
  };
  switch (kind) {
    case "SelfSubjectAccessReview":
      return {
        code: 201,
        body: { ...base, metadata: { creationTimestamp: null }, spec: {}, status: { allowed: true } },
      };
    case "SelfSubjectRulesReview":
      return {
        code: 201,
        body: {
          ...base,
          metadata: { creationTimestamp: null },
          spec: {},
          status: {
            resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
            nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
            incomplete: false,
          },
        },
      };
    case "SelfSubjectReview":
      return {
        code: 201,
        body: {
          ...base,
          metadata: { creationTimestamp: null },
          status: { userInfo: { username: "capture-user", groups: ["system:authenticated"] } },
        },
      };
    default:
      // kubectl prints "<kind>/<name> created" from this answer. A create names its object
      // in the (protobuf) body only, which this server does not read: "x" stands in.
      return { code: 201, body: base };
  }
}

function handle(captured: CapturedRequest[], req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const method = req.method ?? "GET";
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (method === "GET") {
      const d = discovery(url.pathname);
      if (d !== undefined) return send(200, d);
      return send(404, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "not found",
        reason: "NotFound",
        code: 404,
      });
    }
    const body = Buffer.concat(chunks);
    captured.push({
      method,
      path: url.pathname,
      query: url.search.replace(/^\?/, ""),
      contentType: req.headers["content-type"] ?? "",
      userAgent: req.headers["user-agent"] ?? "",
      bodyBase64: body.toString("base64"),
    });
    const a = answer(method, url.pathname);
    return send(a.code, a.body);
  });
}

function runKubectl(
  kubectl: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(kubectl, [...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, out: `${stdout}${stderr}`.trim() });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubectl: { type: "string", default: "/usr/bin/kubectl" },
      "json-kubectl": { type: "string", default: "/usr/lib/google-cloud-sdk/bin/kubectl.1.31" },
      out: { type: "string", default: join(here, "fixtures") },
    },
  });
  const kubectl = values.kubectl;
  const jsonKubectl = values["json-kubectl"];
  const outDir = values.out;
  const work = mkdtempSync(join(tmpdir(), "kubectl-capture-"));
  try {
    const opensslArgs = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1";
    execFileSync(
      "openssl",
      [
        ...opensslArgs.split(" "),
        ...["-keyout", join(work, "tls.key"), "-out", join(work, "tls.crt")],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
      ],
      { stdio: "ignore" },
    );
    const captured: CapturedRequest[] = [];
    const server: Server = createServer(
      { key: readFileSync(join(work, "tls.key")), cert: readFileSync(join(work, "tls.crt")) },
      (req, res) => handle(captured, req, res),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = join(work, "kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: capture\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true`,
        "users:",
        "- name: capture\n  user:\n    token: capture-token",
        "contexts:",
        "- name: capture\n  context:\n    cluster: capture\n    user: capture\n    namespace: default",
        "current-context: capture",
        "",
      ].join("\n"),
    );
    // A fresh HOME: no discovery cache or gcloud settings from this machine leak in.
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: work };
    for (const [file, content] of Object.entries(scratchFiles)) writeFileSync(join(work, file), content);
    mkdirSync(outDir, { recursive: true });
    const run = async (binary: string, args: readonly string[]): Promise<CapturedRequest[]> => {
      captured.length = 0;
      const { code, out } = await runKubectl(
        binary,
        args.map((a) => a.replaceAll("{work}", work)),
        env,
      );
      const types = captured.map((c) => `${c.method} ${c.path} [${c.contentType}]`).join("; ");
      process.stdout.write(
        `  ${binary}: exit ${code}: ${out.split("\n")[0] ?? ""}\n    ${types || "(no writes)"}\n`,
      );
      return [...captured];
    };
    for (const [name, args] of Object.entries(captureCommands)) {
      process.stdout.write(`${name}\n`);
      const fixture: Fixture = {
        command: ["kubectl", ...args],
        requests: await run(kubectl, args),
        jsonRequests: await run(jsonKubectl, args),
      };
      // Formatted as the repository's Prettier would, so a re-capture diffs clean.
      const file = join(outDir, `${name}.json`);
      const options = (await prettier.resolveConfig(join(here, "fixtures", `${name}.json`))) ?? {};
      writeFileSync(file, await prettier.format(JSON.stringify(fixture), { ...options, filepath: file }));
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
