// The key set that signs Multiplane's own tokens (tenant tokens and ServiceAccount tokens):
// ES256 keys, one of them signing, all of them verifying, so that a rotation keeps every
// token already handed out valid until it expires. Kept as files in a data directory,
// generated on first start and reused on later ones, like the CA of server/pki.ts:
//   <dir>/keys.json        {"signing": kid, "keys": [kid, …]}   (written last, atomically)
//   <dir>/<kid>.key        PKCS#8 PEM, mode 0600
// A key ID is what kube-apiserver uses: base64url(SHA-256(DER SubjectPublicKeyInfo)).

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exportJWK, type JWK } from "jose";

export const signingAlgorithm = "ES256";

export interface JwtKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
}

interface PrivateJwtKey extends JwtKey {
  readonly privateKey: KeyObject;
  /** The key's file in the directory, without `.key` (the kid for keys this class made). */
  readonly file: string;
}

/** keys.json: the key files' names (`<name>.key`) and which of them signs. */
interface Manifest {
  signing: string;
  keys: string[];
}

/** kube-apiserver's key ID: base64url of the SHA-256 of the public key's DER SubjectPublicKeyInfo. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64url");
}

function newKey(): PrivateJwtKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = keyIdOf(publicKey);
  return { kid, privateKey, publicKey, file: kid };
}

/**
 * The rotatable key set. Built by the process that issues or verifies Multiplane tokens (router,
 * shard) with `JwtKeySet.load(dir)`; read by the token issuers and authenticators in this folder.
 */
export class JwtKeySet {
  #generation = 0;

  private constructor(
    private readonly dir: string | undefined,
    private keys: readonly PrivateJwtKey[],
    private signingKid: string,
  ) {}

  /** The key set persisted in `dir`, created there (one signing key) on first use. */
  static async load(dir: string): Promise<JwtKeySet> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const manifestPath = join(dir, "keys.json");
    if (!existsSync(manifestPath)) {
      const set = new JwtKeySet(dir, [], "");
      await set.rotate();
      return set;
    }
    const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Manifest;
    // The manifest names key files (`<name>.key`); a key's ID is always computed from the key.
    // Files this class writes are named after their key ID; a key set written by others (the
    // Helm chart's Secret, which cannot compute IDs) may use any names.
    if (!manifest.keys.includes(manifest.signing)) {
      throw new Error(`jwt keys in ${dir}: the signing key ${manifest.signing} is not among the keys`);
    }
    const named = await Promise.all(
      manifest.keys.map(async (name): Promise<[string, PrivateJwtKey]> => {
        const privateKey = createPrivateKey(await readFile(join(dir, `${name}.key`), "utf8"));
        const publicKey = createPublicKey(privateKey);
        return [name, { kid: keyIdOf(publicKey), privateKey, publicKey, file: name }];
      }),
    );
    const signing = named.find(([name]) => name === manifest.signing)?.[1].kid ?? "";
    return new JwtKeySet(
      dir,
      named.map(([, key]) => key),
      signing,
    );
  }

  /** A key set held in memory only (tests, and tools that must not write). */
  static inMemory(): JwtKeySet {
    const key = newKey();
    return new JwtKeySet(undefined, [key], key.kid);
  }

  /**
   * Bumped by every change of the keys (rotate, retire): what a verified token was checked
   * against, so a cache of verified tokens knows when its answers may be stale.
   */
  get generation(): number {
    return this.#generation;
  }

  /** The key new tokens are signed with. */
  get signingKey(): { readonly kid: string; readonly privateKey: KeyObject } {
    const key = this.keys.find((k) => k.kid === this.signingKid);
    if (key === undefined) throw new Error("jwt key set has no signing key");
    return key;
  }

  /** Every key a token may be signed with, the signing key first. */
  get verificationKeys(): readonly JwtKey[] {
    return [...this.keys].sort(
      (a, b) => Number(b.kid === this.signingKid) - Number(a.kid === this.signingKid),
    );
  }

  /** The verification key with this ID. */
  key(kid: string): JwtKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  /**
   * Adds a new signing key; the previous ones stay for verification until `retire`d.
   * Persisted before it is used, so a crash never leaves tokens signed by a key nobody kept.
   */
  async rotate(): Promise<string> {
    const key = newKey();
    const keys = [...this.keys, key];
    await this.persist(keys, key.kid, key);
    this.keys = keys;
    this.signingKid = key.kid;
    this.#generation++;
    return key.kid;
  }

  /** Drops a verification key (tokens signed by it stop authenticating); never the signing key. */
  async retire(kid: string): Promise<void> {
    if (kid === this.signingKid) throw new Error(`jwt key ${kid} is the signing key: rotate first`);
    const retired = this.keys.find((k) => k.kid === kid);
    if (retired === undefined) return;
    const keys = this.keys.filter((k) => k !== retired);
    await this.persist(keys, this.signingKid, undefined);
    this.keys = keys;
    this.#generation++;
    if (this.dir !== undefined) await rm(join(this.dir, `${retired.file}.key`), { force: true });
  }

  /** The public keys as a JWK set (`/openid/v1/jwks`), each with use "sig", alg and kid. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const keys = await Promise.all(
      this.verificationKeys.map(async (k) => ({
        use: "sig",
        ...(await exportJWK(k.publicKey)),
        kid: k.kid,
        alg: signingAlgorithm,
      })),
    );
    return { keys };
  }

  private async persist(
    keys: readonly PrivateJwtKey[],
    signing: string,
    added: PrivateJwtKey | undefined,
  ): Promise<void> {
    if (this.dir === undefined) return;
    if (added !== undefined) {
      const pem = added.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
      await writeFile(join(this.dir, `${added.file}.key`), pem, { mode: 0o600 });
    }
    // The manifest names only keys whose files are written: write a temporary file, then rename.
    const manifest: Manifest = {
      signing: keys.find((k) => k.kid === signing)?.file ?? signing,
      keys: keys.map((k) => k.file),
    };
    const tmp = join(this.dir, `keys.json.${process.pid}.tmp`);
    await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, join(this.dir, "keys.json"));
  }
}

// ---------------------------------------------------------------------------------------
// What the Multiplane tenant tokens and ServiceAccount tokens share: the tenant binding, the
// issuer, and signature checking against the key set.

/** Signs and names Multiplane's tokens; held by the process that mints tokens and by the authenticators. */
export interface JwtIssuer {
  /** The `iss` of every token (the URL whose /.well-known/openid-configuration describes it). */
  readonly url: string;
  readonly keys: JwtKeySet;
}

/** The audience that names a tenant: a token minted for one tenant is refused at every other. */
export function tenantAudience(tenant: { readonly name: string }): string {
  return `multiplane:${tenant.name}`;
}

/**
 * The claim holding the tenant's UID: a token minted for a tenant that was deleted and
 * re-created under the same name (a new UID) is refused.
 */
export const tenantUidClaim = "multiplane.dev/tenant-uid";

/** How long after expiry (and before nbf) a token is still taken: go-jose's default leeway, which kube uses. */
export const clockToleranceSeconds = 60;

/**
 * The `iss` of a compact JWT without verifying anything, or undefined when it is not one.
 * Authenticators use it only to decide whether a token is theirs (kube's hasCorrectIssuer).
 */
export function unverifiedIssuer(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (typeof payload !== "object" || payload === null) return undefined;
    const iss = (payload as { iss?: unknown }).iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** A jose error (bad signature, expired, malformed…) as opposed to a bug. */
export function isJoseError(err: unknown): boolean {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("ERR_J");
}
