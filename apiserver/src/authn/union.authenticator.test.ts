import assert from "node:assert/strict";
import { test } from "node:test";

import { rootTenant } from "../tenancy/instance.ts";
import { UnionAuthenticator } from "./union.authenticator.ts";
import { parseTokenFile, TokenFileAuthenticator } from "./token-file.authenticator.ts";
import type { AuthRequest, Authenticator, UserInfo } from "./user.ts";

const tokens = (csv: string): TokenFileAuthenticator => new TokenFileAuthenticator(parseTokenFile(csv));
const req = (token: string): AuthRequest => ({
  headers: { authorization: `Bearer ${token}` },
  tenant: rootTenant,
});

/** An authenticator that is broken: it throws on every request, and counts them. */
class Broken implements Authenticator {
  calls = 0;
  constructor(private readonly message: string) {}
  authenticate(): Promise<UserInfo | null> {
    this.calls++;
    return Promise.reject(new Error(this.message));
  }
}

test("the first authenticator that accepts wins, in order", async () => {
  const union = new UnionAuthenticator([tokens("t1,alice,1\n"), tokens("t1,bob,2\nt2,carol,3\n")]);
  assert.equal((await union.authenticate(req("t1")))?.name, "alice");
  assert.equal((await union.authenticate(req("t2")))?.name, "carol");
});

test("nobody accepts and nobody fails: null", async () => {
  const union = new UnionAuthenticator([tokens("t1,alice,1\n"), tokens("t2,bob,2\n")]);
  assert.equal(await union.authenticate(req("nope")), null);
  assert.equal(await new UnionAuthenticator([]).authenticate(req("nope")), null);
});

test("a broken authenticator does not stop a later one from accepting", async () => {
  const broken = new Broken("webhook down");
  const union = new UnionAuthenticator([broken, tokens("t1,alice,1\n")]);
  assert.equal((await union.authenticate(req("t1")))?.name, "alice");
  assert.equal(broken.calls, 1);
});

test("an accepting authenticator stops the union before a broken one is asked", async () => {
  const broken = new Broken("webhook down");
  const union = new UnionAuthenticator([tokens("t1,alice,1\n"), broken]);
  assert.equal((await union.authenticate(req("t1")))?.name, "alice");
  assert.equal(broken.calls, 0);
});

test("when one throws and nobody accepts, the errors are thrown together", async () => {
  const union = new UnionAuthenticator([
    new Broken("webhook down"),
    tokens("t1,alice,1\n"),
    new Broken("oidc down"),
  ]);
  await assert.rejects(union.authenticate(req("nope")), (err: unknown) => {
    assert.ok(err instanceof AggregateError);
    assert.equal(err.errors.length, 2);
    assert.match(err.message, /webhook down/);
    assert.match(err.message, /oidc down/);
    return true;
  });
});
