// A throwaway single-node etcd in a container, for integration and conformance tests.
//
// Called by test files (before/after hooks); one container per test file. The image is a
// setting: `MULTIPLANE_ETCD_IMAGE` (default `localhost/etcd:3.4`, the image hack/podman-up.sh
// builds because no registry is reachable here; on a machine with Docker set e.g.
// `quay.io/coreos/etcd:v3.5.17`).
//
// The client port is bound to a fixed free host port, so `endpoint` stays the same across
// `restart()`: a client (EtcdBackend) connected before the restart can reconnect to the same
// address and nobody has to reopen storage. Without the fixed binding podman/docker may hand out
// a new random port on restart and every open client would point at nothing.

import net from "node:net";
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from "testcontainers";

export const defaultEtcdImage = "localhost/etcd:3.4";

const clientPort = 2379;

const setupHint =
  'Start the container runtime and build the etcd image first: eval "$(hack/podman-up.sh)" ' +
  "(it exports DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED, TESTCONTAINERS_HOST_OVERRIDE and MULTIPLANE_ETCD_IMAGE).";

export interface EtcdContainer {
  /** `http://127.0.0.1:<port>`; the same before and after `restart()`. */
  readonly endpoint: string;
  /** Stops etcd (SIGTERM, then SIGKILL after 5 s) and starts it again on the same data and port; resolves when it serves. */
  restart(): Promise<void>;
  /** Stops and removes the container and its data. Idempotent. */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago on the loopback interface. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not find a free port"))));
    });
  });
}

/** Throws a StartupError-like Error with the setup hint when no container runtime answers. */
async function requireContainerRuntime(): Promise<void> {
  try {
    await getContainerRuntimeClient();
  } catch (err) {
    throw new Error(
      `etcd container: no container runtime is reachable (DOCKER_HOST=${process.env.DOCKER_HOST ?? "<unset>"}). ${setupHint}`,
      { cause: err },
    );
  }
}

/** Starts etcd and resolves once it logs that it serves clients. Never skips: a missing runtime throws. */
export async function startEtcdContainer(): Promise<EtcdContainer> {
  await requireContainerRuntime();
  const image = process.env.MULTIPLANE_ETCD_IMAGE || defaultEtcdImage;
  const hostPort = await freePort();
  let started: StartedTestContainer;
  try {
    started = await new GenericContainer(image)
      .withCommand([
        "etcd",
        "--name",
        "t",
        "--data-dir",
        "/tmp/etcd-data",
        "--listen-client-urls",
        `http://0.0.0.0:${clientPort}`,
        "--advertise-client-urls",
        `http://127.0.0.1:${clientPort}`,
        // PROGRESS events for watches that ask for them (the conformance suite waits for one).
        "--experimental-watch-progress-notify-interval=1s",
      ])
      .withExposedPorts({ container: clientPort, host: hostPort })
      .withWaitStrategy(Wait.forLogMessage("ready to serve client requests"))
      .withStartupTimeout(60_000)
      .start();
  } catch (err) {
    throw new Error(
      `etcd container: could not start image ${image}: ${err instanceof Error ? err.message : String(err)}. ${setupHint}`,
      { cause: err },
    );
  }
  const endpoint = `http://${started.getHost()}:${started.getMappedPort(clientPort)}`;
  let stopped = false;
  return {
    endpoint,
    async restart() {
      // The restart keeps the container (and /tmp/etcd-data in it); waits for the log line again.
      await started.restart({ timeout: 5 });
      const now = `http://${started.getHost()}:${started.getMappedPort(clientPort)}`;
      if (now !== endpoint)
        throw new Error(`etcd container: endpoint moved on restart: ${endpoint} → ${now}`);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await started.stop({ timeout: 0, remove: true, removeVolumes: true });
    },
  };
}
