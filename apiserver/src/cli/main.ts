// `multiplane <command>`: parses the subcommand and hands over to its runner.

import { runKubeconfig, runOperator } from "../../../operator/src/index.ts";
import { runRouter } from "./router.ts";
import { runApiserver } from "./shard.ts";
import { runUp } from "./up.ts";

const usage = `Usage: multiplane <command> [flags]

Commands:
  up                          everything in one process: embedded storage, root control plane,
                              router, one shard and the operator
  apiserver                   one apiserver shard: --shard <name> --etcd-endpoints <csv>
                              [--advertise-url] [--external-url] [--etcd-ca-file --etcd-cert-file
                              --etcd-key-file] [--shard-lease-duration 10s] and up's flags
  router                      the front router: --root-url <https://shard>[,<https://shard>…]
                              (tenants and shards from the root tenant), or static
                              --shard <name>=<url> and --tenant <name>=<uid>[@<shard>] (repeatable);
                              --base-domain, --external-url, --data-dir (shared with the shards), --port
  operator                    the Organization/Project reconcilers
  kubeconfig <org>[:<proj>]   print a tenant kubeconfig
`;

const commands = ["up", "apiserver", "router", "operator", "kubeconfig"] as const;
type Command = (typeof commands)[number];

const isCommand = (s: string | undefined): s is Command => commands.includes(s as Command);

/** Runs the CLI; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  if (!isCommand(command)) {
    process.stderr.write(`multiplane: unknown command "${command}"\n\n${usage}`);
    return 2;
  }
  const rest = argv.slice(1);
  switch (command) {
    case "up":
      return runUp(rest);
    case "router":
      return runRouter(rest);
    case "operator":
      return runOperator(rest);
    case "kubeconfig":
      return runKubeconfig(rest);
    case "apiserver":
      return runApiserver(rest);
  }
}
