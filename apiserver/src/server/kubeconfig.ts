// Kubeconfig files for Multiplane's users: one cluster (the server URL and its CA),
// one user (a bearer token), one context.

import YAML from "yaml";

export interface KubeconfigOptions {
  /** Cluster and context name. */
  name: string;
  server: string;
  caPem: string;
  token: string;
  user?: string;
}

export function buildKubeconfig(opts: KubeconfigOptions): string {
  const user = opts.user ?? `${opts.name}-admin`;
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
    users: [{ name: user, user: { token: opts.token } }],
    contexts: [{ name: opts.name, context: { cluster: opts.name, user } }],
    "current-context": opts.name,
    preferences: {},
  });
}
