// A TCP proxy in front of a test server, to cut a client off without stopping the server:
// `cut()` drops every connection and holds new ones (the client's requests hang, as when a
// process is frozen or its network fails); `restore()` lets the held connections through.
// TLS passes through untouched, so certificates for 127.0.0.1 stay valid.

import { KubeConfig } from "@kubernetes/client-node";
import net from "node:net";

export interface TcpProxy {
  /** The proxy's URL with the target's scheme, e.g. https://127.0.0.1:41234. */
  readonly url: string;
  /** A copy of `kc` whose current cluster's server is this proxy. */
  kubeconfig(kc: KubeConfig): KubeConfig;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const open = new Set<net.Socket>();
  const held: net.Socket[] = [];
  let isCut = false;

  const forward = (client: net.Socket): void => {
    const upstream = net.connect(targetPort, target.hostname);
    open.add(client);
    open.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream).pipe(client);
  };

  const server = net.createServer((client) => {
    if (isCut) {
      client.on("error", () => client.destroy());
      held.push(client);
    } else {
      forward(client);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = `${target.protocol}//127.0.0.1:${port}`;

  return {
    url,
    kubeconfig(kc) {
      const cluster = kc.getCurrentCluster();
      if (cluster === null) throw new Error("the kubeconfig has no current cluster");
      const copy = new KubeConfig();
      copy.loadFromOptions({
        clusters: kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: url } : c)),
        users: kc.users,
        contexts: kc.contexts,
        currentContext: kc.currentContext,
      });
      return copy;
    },
    cut() {
      isCut = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      isCut = false;
      for (const client of held.splice(0)) if (!client.destroyed) forward(client);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...open, ...held]) s.destroy();
        server.close(() => resolve());
      }),
  };
}
