import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newKubernetesEnvironment } from "./index.ts";

const env = newKubernetesEnvironment();
env.registerVariable("object", "dyn");
const run = (expr: string, object: unknown = null): unknown => env.evaluate(expr, { object });

describe("Kubernetes CEL libraries", () => {
  it("lists: isSorted, sum, min, max, indexOf", () => {
    assert.equal(run("[1, 2, 3].isSorted() && ![2, 1].isSorted()"), true);
    assert.equal(run("[1, 2, 3].sum()"), 6n);
    assert.equal(run("[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3"), true);
    assert.equal(run("['a', 'b', 'a'].lastIndexOf('a')"), 2n);
    assert.throws(() => run("[].min()"), /min\(list\) called on an empty list/);
  });

  it("regex: matches, find, findAll with a limit", () => {
    assert.equal(run("'abc123'.matches('^[a-z]+[0-9]+$')"), true);
    assert.equal(run("'abc123xyz456'.find('[0-9]+')"), "123");
    assert.deepEqual(run("'a1b2c3'.findAll('[0-9]')"), ["1", "2", "3"]);
    assert.deepEqual(run("'a1b2c3'.findAll('[0-9]', 2)"), ["1", "2"]);
    assert.equal(run("'ABC'.find('(?i)b')"), "B");
  });

  it("strings: charAt, replace, reverse, quote and the engine's own", () => {
    assert.equal(run("'hello'.charAt(1)"), "e");
    assert.equal(run("'a-b-c'.replace('-', '+', 1)"), "a+b-c");
    assert.equal(run("'abc'.reverse()"), "cba");
    assert.equal(run("strings.quote('a\"b')"), '"a\\"b"');
    assert.equal(run("'  X '.trim().lowerAscii() + ['a', 'b'].join('/')"), "xa/b");
  });

  it("sets: contains, equivalent, intersects (1 equals 1.0)", () => {
    assert.equal(run("sets.contains([1, 2, 3], [2, 3])"), true);
    assert.equal(run("sets.contains([1, 2], [4])"), false);
    assert.equal(run("sets.equivalent([1, 2, 2], [2, 1.0])"), true);
    assert.equal(run("sets.intersects(['a', 'b'], ['c', 'b'])"), true);
    assert.equal(run("sets.intersects(['a'], ['c'])"), false);
  });

  it("quantity: parsing, comparison, arithmetic, conversions", () => {
    assert.equal(run("quantity('1Gi').isGreaterThan(quantity('1G'))"), true);
    assert.equal(run("quantity('500m').isLessThan(quantity('1'))"), true);
    assert.equal(run("quantity('1.5').isInteger()"), false);
    assert.equal(run("quantity('2k').asInteger()"), 2000n);
    assert.equal(run("quantity('1Ki').add(quantity('24')).asInteger()"), 1048n);
    assert.equal(run("quantity('1').sub(2).sign()"), -1n);
    assert.equal(run("quantity('250m').asApproximateFloat()"), 0.25);
    assert.equal(run("quantity('1000m').compareTo(quantity('1'))"), 0n);
    assert.equal(run("quantity('1000m') == quantity('1')"), true);
    assert.equal(run("isQuantity('1.5Gi') && !isQuantity('1.5Gx')"), true);
    assert.throws(() => run("quantity('1.5').asInteger()"), /cannot convert value to integer/);
    assert.throws(() => run("quantity('abc')"), /quantities must match the regular expression/);
    assert.equal(
      run("quantity(object.spec.memory).isLessThan(quantity('1Gi'))", { spec: { memory: "512Mi" } }),
      true,
    );
  });

  it("url: parts of absolute URLs and paths", () => {
    assert.equal(run("url('https://example.com:8443/a/b?x=1&x=2').getScheme()"), "https");
    assert.equal(run("url('https://example.com:8443/a/b?x=1&x=2').getHost()"), "example.com:8443");
    assert.equal(run("url('https://example.com:8443/a/b').getHostname()"), "example.com");
    assert.equal(run("url('https://example.com:8443/a/b').getPort()"), "8443");
    assert.equal(run("url('https://[::1]:80/').getHostname()"), "::1");
    assert.equal(run("url('https://example.com/a%20b').getEscapedPath()"), "/a%20b");
    assert.equal(run("url('/api/v1?watch=true').getQuery()['watch'][0]"), "true");
    assert.equal(run("isURL('https://x.io') && !isURL('not a url')"), true);
  });
});
