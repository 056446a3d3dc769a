// A Multiplane started in process for tests (embedded storage in a temp dir, or etcd),
// and the real kubectl pointed at it.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { up, type Multiplane, type UpOptions } from "../../apiserver/src/cli/up.ts";

const run = promisify(execFile);

export const kubectlBinary = process.env["KUBECTL"] ?? "/usr/bin/kubectl";

export interface KubectlOptions {
  input?: string;
  env?: Record<string, string>;
  tenant?: string;
  /** Authenticate with this bearer token instead of the admin's. */
  token?: string;
  /** Use this kubeconfig instead of the admin's. */
  kubeconfig?: string;
}

/** A user of the bootstrap token file (kube's --token-auth-file), for tests of authorization. */
export interface TestUser {
  readonly token: string;
  readonly name: string;
  readonly groups?: readonly string[];
}

/** What a kubectl run printed, whether it succeeded or not. */
export interface KubectlOutcome {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TestMultiplane extends Multiplane {
  readonly dataDir: string;
  /** Runs the real kubectl against this server (as admin); resolves with stdout, rejects with stderr. */
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<string>;
  /** Runs the real kubectl; resolves with its outcome, failed or not. */
  kubectlOutcome(args: readonly string[], opts?: KubectlOptions): Promise<KubectlOutcome>;
  /** Writes a kubeconfig for a tenant (served at /clusters/<tenant>) and returns its path. */
  tenantKubeconfig(tenant: string): Promise<string>;
  destroy(): Promise<void>;
}

export async function startMultiplane(
  opts: { users?: readonly TestUser[] } & Partial<
    Omit<UpOptions, "dataDir" | "host" | "port" | "quiet">
  > = {},
): Promise<TestMultiplane> {
  const dataDir = await mkdtemp(join(tmpdir(), "multiplane-test-"));
  const { users = [], ...upOpts } = opts;
  if (users.length > 0) {
    // The token file `up` reads: the admin first (the kubeconfig's user), then the test's users.
    const lines = [`${randomBytes(24).toString("base64url")},admin,admin,"system:masters"`];
    for (const u of users) lines.push(`${u.token},${u.name},${u.name},"${(u.groups ?? []).join(",")}"`);
    await writeFile(join(dataDir, "tokens.csv"), `${lines.join("\n")}\n`, { mode: 0o600 });
  }
  const mp = await up({ dataDir, host: "127.0.0.1", port: 0, quiet: true, ...upOpts });
  const { readFile } = await import("node:fs/promises");
  const adminConfig = await readFile(mp.kubeconfigPath, "utf8");

  const tenantKubeconfig = async (tenant: string): Promise<string> => {
    const path = join(dataDir, `${tenant.replace(/:/g, "_")}.kubeconfig`);
    await writeFile(path, adminConfig.replace(mp.url, `${mp.url}/clusters/${tenant}`));
    return path;
  };

  const kubectl = async (args: readonly string[], o: KubectlOptions = {}): Promise<string> => {
    const kubeconfig = o.kubeconfig ?? (o.tenant ? await tenantKubeconfig(o.tenant) : mp.kubeconfigPath);
    const auth = o.token === undefined ? [] : [`--token=${o.token}`];
    const child = run(kubectlBinary, ["--kubeconfig", kubeconfig, ...auth, ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dataDir, ...o.env },
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (o.input !== undefined) {
      child.child.stdin?.end(o.input);
    }
    try {
      return (await child).stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`kubectl ${args.join(" ")} failed: ${e.stderr ?? e.message}`, { cause: err });
    }
  };

  const kubectlOutcome = async (args: readonly string[], o: KubectlOptions = {}): Promise<KubectlOutcome> => {
    try {
      return { ok: true, stdout: await kubectl(args, o), stderr: "" };
    } catch (err) {
      const cause = (err as { cause?: { stdout?: string; stderr?: string } }).cause;
      return { ok: false, stdout: cause?.stdout ?? "", stderr: cause?.stderr ?? String(err) };
    }
  };

  return {
    ...mp,
    dataDir,
    kubectl,
    kubectlOutcome,
    tenantKubeconfig,
    destroy: async () => {
      await mp.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
