// `multiplane/testcontainers`: Multiplane in a container for users' own tests, as
// @testcontainers/k3s gives k3s. Plain ES module (users import it without a TypeScript loader);
// its types are in index.d.ts next to it, and tsc checks this file through checkJs.
//
//   const mp = await new MultiplaneContainer().start();     // `multiplane up` in the image
//   const admin = mp.getKubeConfig();                        // the root's admin kubeconfig
//   const acme = await mp.createOrganization("acme");        // a ready tenant's kubeconfig
//
// Kubeconfigs name the host-mapped port; TLS is verified against the server's own CA (the
// serving certificate covers 127.0.0.1, localhost and ::1).

import { Buffer } from "node:buffer";
import { request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { URL } from "node:url";
import { AbstractStartedContainer, GenericContainer, Wait } from "testcontainers";
import YAML from "yaml";

/** The image hack/build-image.sh builds. */
export const defaultImage = "localhost/multiplane:dev";
/** The port `multiplane up` serves on in the container (the router's). */
export const multiplanePort = 6443;

const dataDir = "/var/lib/multiplane/.multiplane";
const organizations = "/apis/tenancy.multiplane.dev/v1alpha1/organizations";
const loopbackHosts = ["127.0.0.1", "localhost", "::1"];

export class MultiplaneContainer extends GenericContainer {
  /** @param {string} [image] */
  constructor(image = defaultImage) {
    super(image);
    this.withExposedPorts(multiplanePort)
      .withCommand(["up", "--host", "0.0.0.0"])
      // The log line comes after the admin kubeconfig is written and the operator runs;
      // /readyz proves the port answers through the mapping.
      .withWaitStrategy(
        Wait.forAll([
          Wait.forLogMessage("Multiplane is serving at"),
          Wait.forHttp("/readyz", multiplanePort).usingTls().allowInsecure(),
        ]),
      )
      .withStartupTimeout(120_000);
  }

  /** @override @returns {Promise<StartedMultiplaneContainer>} */
  async start() {
    const started = await super.start();
    const { stdout, stderr, exitCode } = await started.exec(["cat", `${dataDir}/admin.kubeconfig`]);
    if (exitCode !== 0) {
      await started.stop();
      throw new Error(`multiplane container: no admin kubeconfig (exit code ${exitCode}): ${stderr}`);
    }
    return new StartedMultiplaneContainer(started, stdout);
  }
}

export class StartedMultiplaneContainer extends AbstractStartedContainer {
  /** The server's CA (PEM), which signs its serving certificate. */
  #caPem;
  /** The admin's bearer token. */
  #token;
  /** The admin kubeconfig, as `multiplane up` wrote it in the container. */
  #kubeconfig;

  /**
   * @param {import("testcontainers").StartedTestContainer} started
   * @param {string} adminKubeconfig
   */
  constructor(started, adminKubeconfig) {
    super(started);
    this.#kubeconfig = adminKubeconfig;
    const config = parseKubeconfig(adminKubeconfig);
    this.#caPem = Buffer.from(
      config.clusters[0]?.cluster["certificate-authority-data"] ?? "",
      "base64",
    ).toString();
    this.#token = config.users[0]?.user.token ?? "";
  }

  /** The server's URL on the host: `https://<host>:<mapped port>`. */
  getServerUrl() {
    const host = this.getHost();
    return `https://${host.includes(":") ? `[${host}]` : host}:${this.getMappedPort(multiplanePort)}`;
  }

  /** The root's admin kubeconfig (YAML): Organizations, Projects and the Secrets with their kubeconfigs. */
  getKubeConfig() {
    return this.#onMappedPort(this.#kubeconfig);
  }

  /**
   * Applies an Organization, waits for its Ready condition and returns its kubeconfig (YAML,
   * the Secret `org-<name>/<name>-kubeconfig`) naming the mapped port.
   * @param {string} name
   * @param {import("./index.d.ts").CreateOrganizationOptions} [opts]
   * @returns {Promise<string>}
   */
  async createOrganization(name, opts = {}) {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const spec = {
      ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
      owners: opts.owners ?? [{ kind: "User", name: "admin" }],
      ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
    };
    await this.#api("POST", organizations, {
      apiVersion: "tenancy.multiplane.dev/v1alpha1",
      kind: "Organization",
      metadata: { name },
      spec,
    });
    /** @type {string} */
    let last = "not observed yet";
    for (;;) {
      const org = /** @type {{ status?: { conditions?: Condition[] } }} */ (
        await this.#api("GET", `${organizations}/${encodeURIComponent(name)}`)
      );
      const ready = org.status?.conditions?.find((c) => c.type === "Ready");
      if (ready?.status === "True") break;
      if (ready) last = `${ready.status} ${ready.reason ?? ""}: ${ready.message ?? ""}`;
      if (Date.now() > deadline)
        throw new Error(`Organization ${name} not Ready within ${timeoutMs} ms (Ready: ${last})`);
      await sleep(50);
    }
    const secretPath = `/api/v1/namespaces/org-${encodeURIComponent(name)}/secrets/${encodeURIComponent(name)}-kubeconfig`;
    const secret = /** @type {{ data?: { kubeconfig?: string } }} */ (await this.#api("GET", secretPath));
    const kubeconfig = secret.data?.kubeconfig;
    if (kubeconfig === undefined) throw new Error(`${secretPath} has no key "kubeconfig"`);
    return this.#onMappedPort(Buffer.from(kubeconfig, "base64").toString());
  }

  /**
   * The kubeconfig with each server's origin replaced by the mapped one (paths such as
   * /clusters/<tenant> kept); a host the serving certificate does not name is verified as localhost.
   * @param {string} text
   */
  #onMappedPort(text) {
    const config = parseKubeconfig(text);
    const origin = new URL(this.getServerUrl());
    for (const { cluster } of config.clusters) {
      const server = new URL(cluster.server);
      server.protocol = origin.protocol;
      server.host = origin.host;
      cluster.server = server.toString().replace(/\/$/, "");
      if (!loopbackHosts.includes(this.getHost())) cluster["tls-server-name"] = "localhost";
    }
    return YAML.stringify(config);
  }

  /**
   * One request to the root as the admin; resolves with the decoded JSON body of a 2xx answer,
   * rejects with the Status message otherwise.
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<unknown>}
   */
  #api(method, path, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.getServerUrl()),
        {
          method,
          ca: this.#caPem,
          ...(loopbackHosts.includes(this.getHost()) ? {} : { servername: "localhost" }),
          headers: {
            authorization: `Bearer ${this.#token}`,
            accept: "application/json",
            ...(payload !== undefined ? { "content-type": "application/json" } : {}),
          },
        },
        (res) => {
          /** @type {Buffer[]} */
          const chunks = [];
          res.on("data", (/** @type {Buffer} */ c) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString();
            const status = res.statusCode ?? 0;
            /** @type {unknown} */
            let json;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            if (status >= 200 && status < 300) resolve(json);
            else {
              const message = /** @type {{ message?: string } | undefined} */ (json)?.message ?? text;
              reject(new Error(`${method} ${path}: ${status} ${message}`));
            }
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}

/** @param {string} text */
function parseKubeconfig(text) {
  /** @type {unknown} */
  const config = YAML.parse(text);
  return /** @type {Kubeconfig} */ (config);
}

/**
 * The parts of a kubeconfig read and rewritten here.
 * @typedef {{
 *   clusters: { cluster: { server: string; "certificate-authority-data"?: string; "tls-server-name"?: string } }[];
 *   users: { user: { token?: string } }[];
 * }} Kubeconfig
 */

/** @typedef {{ type: string; status: string; reason?: string; message?: string }} Condition */
