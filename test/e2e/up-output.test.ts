// What `multiplane up` (npm start) tells a person, run as the real command: a progress line per
// step, then the URL, the admin kubeconfig's path and a two-line "try it" whose first line works
// as printed with the real kubectl; Ctrl-C ends it cleanly.

import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { kubectlBinary } from "../support/multiplane.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

let dataDir: string;
let child: ChildProcess;
let stdout = "";
let exited: Promise<number | null>;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "multiplane-up-output-"));
  child = spawn(
    process.execPath,
    [join(repoRoot, "bin/multiplane.mjs"), "up", "--port", "0", "--data-dir", dataDir],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "ignore"] },
  );
  exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  // Until the "try it" lines are out, or the command ended.
  await new Promise<void>((resolve) => {
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (/Try it:\n.*\n.*\n/.test(stdout)) resolve();
    });
    void exited.then(() => resolve());
  });
});
after(async () => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
});

test("a progress line per step, then the URL, the admin kubeconfig and how to try it", () => {
  const lines = stdout.split("\n");
  assert.deepEqual(
    lines.filter((l) => l.startsWith("  ✓ ")).map((l) => l.replace(/ at .*|: .*/, "")),
    [
      "  ✓ router listening",
      "  ✓ storage opened",
      "  ✓ root control plane ready",
      "  ✓ shard local ready",
      "  ✓ admin kubeconfig written",
      "  ✓ operator started",
    ],
    stdout,
  );
  assert.match(stdout, new RegExp(`^Starting Multiplane \\(data directory ${dataDir}\\)\n`));
  assert.match(stdout, new RegExp(`storage opened: embedded, ${join(dataDir, "state.db")}\n`));
  const kubeconfig = join(dataDir, "admin.kubeconfig");
  assert.match(
    stdout,
    new RegExp(
      `\nMultiplane is serving at https://127\\.0\\.0\\.1:\\d+\nAdmin kubeconfig: ${kubeconfig}\n\n` +
        `  export KUBECONFIG=${kubeconfig}\n\nTry it:\n` +
        `  kubectl apply -f examples/organization\\.yaml && kubectl wait --for=condition=Ready org/acme\n` +
        `  kubectl get secret -n org-acme acme-kubeconfig .*\n\n` +
        `Admin kubeconfig \\(${kubeconfig}\\):\n\n`,
    ),
  );
});

test("it ends with the admin kubeconfig, as its file has it", async () => {
  const file = await readFile(join(dataDir, "admin.kubeconfig"), "utf8");
  assert.match(file, /token:/);
  assert.ok(stdout.endsWith(`:\n\n${file}`), stdout.slice(-300));
});

test("the first try-it line works as printed", async () => {
  const env = { ...process.env, KUBECONFIG: join(dataDir, "admin.kubeconfig"), HOME: dataDir };
  const kubectl = (args: readonly string[]) =>
    run(kubectlBinary, args, { cwd: repoRoot, env, timeout: 60_000 }).then((r) => r.stdout);
  assert.match(
    await kubectl(["apply", "-f", "examples/organization.yaml"]),
    /organization.tenancy.multiplane.dev\/acme created/,
  );
  assert.match(
    await kubectl(["wait", "--for=condition=Ready", "org/acme", "--timeout=60s"]),
    /condition met/,
  );
});

test("Ctrl-C ends it cleanly", async () => {
  child.kill("SIGINT");
  assert.equal(await exited, 0);
});
