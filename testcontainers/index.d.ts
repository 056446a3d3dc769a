// Types of `multiplane/testcontainers` (index.js): Multiplane in a container for users' own tests.

import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from "testcontainers";

/** The image hack/build-image.sh builds: `localhost/multiplane:dev`. */
export declare const defaultImage: string;
/** The port `multiplane up` serves on in the container (6443). */
export declare const multiplanePort: number;

/** An owner of an Organization: cluster-admin inside its tenant. */
export interface Owner {
  kind: "User" | "Group" | "ServiceAccount";
  name: string;
  /** A ServiceAccount's namespace. */
  namespace?: string;
}

export interface CreateOrganizationOptions {
  /** Default: the admin user of the admin kubeconfig (`[{ kind: "User", name: "admin" }]`). */
  owners?: Owner[];
  displayName?: string;
  /** The Organization's `spec.policy` (quotas, limits), as in crds/. */
  policy?: Record<string, unknown>;
  /** How long to wait for the Ready condition (default 60 000 ms). */
  timeoutMs?: number;
}

/** `multiplane up` in the image (default `localhost/multiplane:dev`); start() waits for /readyz. */
export declare class MultiplaneContainer extends GenericContainer {
  constructor(image?: string);
  start(): Promise<StartedMultiplaneContainer>;
}

export declare class StartedMultiplaneContainer extends AbstractStartedContainer {
  constructor(started: StartedTestContainer, adminKubeconfig: string);
  /** `https://<host>:<mapped port>`. */
  getServerUrl(): string;
  /** The root's admin kubeconfig (YAML) naming the mapped port, with the server's CA. */
  getKubeConfig(): string;
  /**
   * Applies the Organization `name`, waits until it is Ready and returns its kubeconfig (YAML,
   * from the Secret `org-<name>/<name>-kubeconfig`) naming the mapped port. Rejects with the
   * server's Status message (e.g. when it already exists) or on timeout.
   */
  createOrganization(name: string, opts?: CreateOrganizationOptions): Promise<string>;
}
