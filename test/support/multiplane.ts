// A Multiplane started in process for tests (embedded storage in a temp dir, or etcd),
// and the real kubectl pointed at it.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { up, type Multiplane } from "../../apiserver/src/cli/up.ts";

const run = promisify(execFile);

export const kubectlBinary = process.env["KUBECTL"] ?? "/usr/bin/kubectl";

export interface TestMultiplane extends Multiplane {
  readonly dataDir: string;
  /** Runs the real kubectl against this server (as admin); resolves with stdout, rejects with stderr. */
  kubectl(
    args: readonly string[],
    opts?: { input?: string; env?: Record<string, string>; tenant?: string },
  ): Promise<string>;
  /** Writes a kubeconfig for a tenant (served at /clusters/<tenant>) and returns its path. */
  tenantKubeconfig(tenant: string): Promise<string>;
  destroy(): Promise<void>;
}

export async function startMultiplane(opts: { etcdEndpoints?: string[] } = {}): Promise<TestMultiplane> {
  const dataDir = await mkdtemp(join(tmpdir(), "multiplane-test-"));
  const mp = await up({ dataDir, host: "127.0.0.1", port: 0, quiet: true, ...opts });
  const { readFile } = await import("node:fs/promises");
  const adminConfig = await readFile(mp.kubeconfigPath, "utf8");

  const tenantKubeconfig = async (tenant: string): Promise<string> => {
    const path = join(dataDir, `${tenant.replace(/:/g, "_")}.kubeconfig`);
    await writeFile(path, adminConfig.replace(mp.url, `${mp.url}/clusters/${tenant}`));
    return path;
  };

  const kubectl = async (
    args: readonly string[],
    o: { input?: string; env?: Record<string, string>; tenant?: string } = {},
  ): Promise<string> => {
    const kubeconfig = o.tenant ? await tenantKubeconfig(o.tenant) : mp.kubeconfigPath;
    const child = run(kubectlBinary, ["--kubeconfig", kubeconfig, ...args], {
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

  return {
    ...mp,
    dataDir,
    kubectl,
    tenantKubeconfig,
    destroy: async () => {
      await mp.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
