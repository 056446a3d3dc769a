// TenantAuditSinks: one sink per tenant registration, built only for a tenant with webhooks,
// replaced (the old one closed) when the registration changes, closed on forget and on close.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AuditEvent } from "./event.ts";
import type { AuditSink } from "./sink.ts";
import { TenantAuditSinks, type AuditedTenant } from "./tenant-sinks.ts";

/** A sink that records what it was given and whether it was closed. */
class RecordingSink implements AuditSink {
  readonly events: AuditEvent[] = [];
  closed = false;
  constructor(readonly url: string) {}
  process(events: readonly AuditEvent[]): void {
    this.events.push(...events);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function setup() {
  const made: RecordingSink[] = [];
  const sinks = new TenantAuditSinks((w) => {
    const s = new RecordingSink(w.url);
    made.push(s);
    return s;
  });
  return { sinks, made };
}

const tenant = (name: string, ...urls: string[]): AuditedTenant => ({
  name,
  policy: { auditWebhooks: urls.map((url) => ({ url })) },
});

describe("TenantAuditSinks", () => {
  test("a tenant without webhooks gets no sink; one with webhooks the same sink per registration", () => {
    const { sinks, made } = setup();
    assert.equal(sinks.sinkFor({ name: "plain" }), undefined);
    assert.equal(sinks.sinkFor(tenant("empty")), undefined);
    const a = tenant("a", "https://a.example/audit");
    assert.equal(sinks.sinkFor(a), sinks.sinkFor(a));
    assert.equal(made.length, 1);
    assert.equal(sinks.size, 1);
  });

  test("a new registration (policy change) closes the old sink and builds a new one", () => {
    const { sinks, made } = setup();
    const first = tenant("a", "https://a.example/one");
    sinks.sinkFor(first);
    const second = tenant("a", "https://a.example/two", "https://a.example/three");
    const sink = sinks.sinkFor(second);
    assert.ok(made[0]!.closed);
    assert.deepEqual(
      made.slice(1).map((s) => s.url),
      ["https://a.example/two", "https://a.example/three"],
    );
    // Two webhooks: each gets every event of the tenant.
    sink?.process([{ auditID: "x" } as AuditEvent]);
    assert.deepEqual(
      made.slice(1).map((s) => s.events.length),
      [1, 1],
    );
    // Dropping the webhooks closes the sink and builds none.
    assert.equal(sinks.sinkFor({ name: "a" }), undefined);
    assert.ok(made[1]!.closed && made[2]!.closed);
    assert.equal(sinks.size, 0);
  });

  test("forget closes a tenant's sink; with a registration, only that registration's", async () => {
    const { sinks, made } = setup();
    const old = tenant("a", "https://a.example/audit");
    const current = tenant("a", "https://a.example/audit");
    sinks.sinkFor(current);
    await sinks.forget("a", old); // an older registration's instance was evicted: not this sink
    assert.equal(made[0]!.closed, false);
    await sinks.forget("a", current);
    assert.ok(made[0]!.closed);
    sinks.sinkFor(tenant("b", "https://b.example/audit"));
    await sinks.forget("b");
    assert.ok(made[1]!.closed);
    assert.equal(sinks.size, 0);
  });

  test("close closes every sink", async () => {
    const { sinks, made } = setup();
    sinks.sinkFor(tenant("a", "https://a.example/audit"));
    sinks.sinkFor(tenant("b", "https://b.example/audit"));
    await sinks.close();
    assert.ok(made.every((s) => s.closed));
    assert.equal(sinks.size, 0);
  });
});
