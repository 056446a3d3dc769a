import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { JwtKeySet, keyIdOf, tenantAudience, unverifiedIssuer } from "./jwt-keys.ts";

const dirs: string[] = [];
const tempDir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), "mp-jwt-keys-"));
  dirs.push(d);
  return d;
};
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

test("a key set is generated on first load, persisted, and the same on the next load", async () => {
  const dir = await tempDir();
  const first = await JwtKeySet.load(dir);
  const kid = first.signingKey.kid;
  assert.equal(kid, keyIdOf(first.verificationKeys[0]!.publicKey));
  assert.deepEqual((await readdir(dir)).sort(), [`${kid}.key`, "keys.json"].sort());
  assert.equal((await stat(join(dir, `${kid}.key`))).mode & 0o777, 0o600);
  assert.match(await readFile(join(dir, `${kid}.key`), "utf8"), /BEGIN PRIVATE KEY/);

  const again = await JwtKeySet.load(dir);
  assert.equal(again.signingKey.kid, kid);
  assert.equal(again.verificationKeys.length, 1);
});

test("rotate adds a signing key and keeps the old ones for verification, across restarts", async () => {
  const dir = await tempDir();
  const keys = await JwtKeySet.load(dir);
  const oldKid = keys.signingKey.kid;
  const newKid = await keys.rotate();
  assert.notEqual(newKid, oldKid);
  assert.equal(keys.signingKey.kid, newKid);
  assert.deepEqual(
    keys.verificationKeys.map((k) => k.kid),
    [newKid, oldKid],
  );

  const reloaded = await JwtKeySet.load(dir);
  assert.equal(reloaded.signingKey.kid, newKid);
  assert.ok(reloaded.key(oldKid));
});

test("retire drops a verification key and its file, never the signing key", async () => {
  const dir = await tempDir();
  const keys = await JwtKeySet.load(dir);
  const oldKid = keys.signingKey.kid;
  const newKid = await keys.rotate();
  await assert.rejects(keys.retire(newKid), /signing key/);
  await keys.retire(oldKid);
  assert.equal(keys.key(oldKid), undefined);
  assert.deepEqual(await readdir(dir).then((f) => f.sort()), [`${newKid}.key`, "keys.json"].sort());
  assert.equal((await JwtKeySet.load(dir)).key(oldKid), undefined);
});

test("the JWK set holds public EC keys with use, alg and kid, never a private part", async () => {
  const keys = JwtKeySet.inMemory();
  await keys.rotate();
  const { keys: jwks } = await keys.jwks();
  assert.equal(jwks.length, 2);
  for (const jwk of jwks) {
    assert.equal(jwk.kty, "EC");
    assert.equal(jwk.crv, "P-256");
    assert.equal(jwk.use, "sig");
    assert.equal(jwk.alg, "ES256");
    assert.equal(jwk.d, undefined);
    assert.ok(keys.key(jwk.kid!));
  }
});

test("tenant audiences differ per tenant; the unverified issuer is read only from a compact JWT", () => {
  assert.equal(tenantAudience({ name: "acme:web" }), "multiplane:acme:web");
  assert.notEqual(tenantAudience({ name: "acme" }), tenantAudience({ name: "acme:web" }));
  const payload = Buffer.from(JSON.stringify({ iss: "https://x" })).toString("base64url");
  assert.equal(unverifiedIssuer(`e30.${payload}.sig`), "https://x");
  assert.equal(unverifiedIssuer("not-a-jwt"), undefined);
  assert.equal(unverifiedIssuer("a.!!!.c"), undefined);
});

test("a key set written by others (the Helm chart): any file name, SEC 1 PEM, the ID computed from the key", async () => {
  const dir = await tempDir();
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  await writeFile(join(dir, "signing.key"), privateKey.export({ type: "sec1", format: "pem" }));
  await writeFile(join(dir, "keys.json"), JSON.stringify({ signing: "signing", keys: ["signing"] }));

  const keys = await JwtKeySet.load(dir);
  assert.equal(keys.signingKey.kid, keyIdOf(publicKey));
  assert.deepEqual(
    keys.verificationKeys.map((k) => k.kid),
    [keyIdOf(publicKey)],
  );

  // Rotating and retiring keep naming the chart's file until it is retired.
  const newKid = await keys.rotate();
  const reloaded = await JwtKeySet.load(dir);
  assert.equal(reloaded.signingKey.kid, newKid);
  assert.ok(reloaded.key(keyIdOf(publicKey)));
  await reloaded.retire(keyIdOf(publicKey));
  assert.deepEqual((await readdir(dir)).sort(), [`${newKid}.key`, "keys.json"].sort());
});

test("a manifest whose signing key is not among its keys is refused", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "keys.json"), JSON.stringify({ signing: "other", keys: [] }));
  await assert.rejects(JwtKeySet.load(dir), /signing key other is not among the keys/);
});
