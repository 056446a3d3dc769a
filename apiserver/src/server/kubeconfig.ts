// Kubeconfig files for Multiplane's users: one cluster (the server URL and its CA), and one
// user with its context per credential — a bearer token (buildKubeconfig), or whatever
// `user` block a caller writes (the operator's kubelogin exec users).

import YAML from "yaml";

export interface KubeconfigOptions {
  /** Cluster and context name. */
  name: string;
  server: string;
  caPem: string;
  token: string;
  user?: string;
}

/** One user of a kubeconfig and the context that uses it. */
export interface KubeconfigUser {
  readonly name: string;
  readonly context: string;
  /** The kubeconfig's `user` block: `{ token }`, `{ exec }`… */
  readonly user: Record<string, unknown>;
}

/** A kubeconfig of one cluster with these users; the first user's context is the current one. */
export function kubeconfigOf(opts: {
  name: string;
  server: string;
  caPem: string;
  users: readonly KubeconfigUser[];
}): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: opts.name,
        cluster: {
          server: opts.server,
          "certificate-authority-data": Buffer.from(opts.caPem).toString("base64"),
        },
      },
    ],
    users: opts.users.map((u) => ({ name: u.name, user: u.user })),
    contexts: opts.users.map((u) => ({ name: u.context, context: { cluster: opts.name, user: u.name } })),
    "current-context": opts.users[0]?.context ?? opts.name,
    preferences: {},
  });
}

/** A bearer token's kubeconfig: context `name`, user `name-admin` unless named. */
export function buildKubeconfig(opts: KubeconfigOptions): string {
  return kubeconfigOf({
    ...opts,
    users: [{ name: opts.user ?? `${opts.name}-admin`, context: opts.name, user: { token: opts.token } }],
  });
}
