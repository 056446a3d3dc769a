import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CostMeter, newKubernetesEnvironment } from "./index.ts";

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
  it("ip: parsing with Go's netip errors and kube's strictness, classes, canonical form", () => {
    assert.equal(run('ip("192.168.0.1").family()'), 4n);
    assert.equal(run('ip("2001:db8::68").family()'), 6n);
    assert.throws(
      () => run('ip("192.168.0.1.0")'),
      (e: Error) =>
        e.message.startsWith(
          'IP Address "192.168.0.1.0" parse error during conversion from string: ParseAddr("192.168.0.1.0"): IPv4 address too long',
        ),
    );
    assert.throws(
      () => run('ip("2001:db8:::68")'),
      (e: Error) =>
        e.message.startsWith(
          'IP Address "2001:db8:::68" parse error during conversion from string: ParseAddr("2001:db8:::68"): each colon-separated field must have at least one digit (at ":68")',
        ),
    );
    assert.throws(
      () => run('ip("01.2.3.4")'),
      /ParseAddr\("01.2.3.4"\): IPv4 field has octet with leading zero/,
    );
    assert.throws(
      () => run('ip("::ffff:1.2.3.4")'),
      /IPv4-mapped IPv6 address "::ffff:1.2.3.4" is not allowed/,
    );
    assert.throws(
      () => run('ip("fe80::1%eth0")'),
      /IP address "fe80::1%eth0" with zone value is not allowed/,
    );
    assert.equal(run('isIP("192.168.0.1") && !isIP("192.168.0.1.0") && !isIP("::ffff:1.2.3.4")'), true);
    assert.equal(run('ip.isCanonical("127.0.0.1") && ip.isCanonical("2001:db8::68")'), true);
    assert.equal(run('ip.isCanonical("2001:DB8::68") || ip.isCanonical("2001:db8::0:0:0:abcd")'), false);
    assert.throws(() => run('ip.isCanonical("127.0.0.1.0")'), /IPv4 address too long/);
    assert.equal(run('string(ip("2001:0db8:0:0:1:0:0:1"))'), "2001:db8::1:0:0:1");
    assert.equal(
      run('ip("0.0.0.0").isUnspecified() && ip("::").isUnspecified() && !ip("::1").isUnspecified()'),
      true,
    );
    assert.equal(
      run('ip("127.0.0.1").isLoopback() && ip("::1").isLoopback() && !ip("1.2.3.4").isLoopback()'),
      true,
    );
    assert.equal(run('ip("224.0.0.1").isLinkLocalMulticast() && ip("ff02::1").isLinkLocalMulticast()'), true);
    assert.equal(
      run('ip("224.0.1.1").isLinkLocalMulticast() || ip("fd00::1").isLinkLocalMulticast()'),
      false,
    );
    assert.equal(
      run('ip("169.254.169.254").isLinkLocalUnicast() && ip("fe80::1").isLinkLocalUnicast()'),
      true,
    );
    assert.equal(run('ip("192.168.0.1").isLinkLocalUnicast() || ip("fd80::1").isLinkLocalUnicast()'), false);
    assert.equal(run('ip("192.168.0.1").isGlobalUnicast() && ip("2001:db8::abcd").isGlobalUnicast()'), true);
    assert.equal(run('ip("255.255.255.255").isGlobalUnicast() || ip("ff00::1").isGlobalUnicast()'), false);
    assert.equal(run('type(ip("192.168.0.1")) == net.IP && ip("::1") == ip("0::1")'), true);
    assert.equal(env.check('isIP(cidr("192.168.0.0/24"))').valid, false);
  });

  it("cidr: parsing, containment, masking and kube's doubled error prefix", () => {
    assert.throws(
      () => run('cidr("192.168.0.0/")'),
      (e: Error) =>
        e.message.startsWith(
          'network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("192.168.0.0/"): bad bits after slash: ""',
        ),
    );
    assert.throws(
      () => run('cidr("1.2.3.4/33")'),
      /netip.ParsePrefix\("1.2.3.4\/33"\): prefix length out of range/,
    );
    assert.throws(
      () => run('cidr("::ffff:1.2.3.4/120")'),
      /IPv4-mapped IPv6 address "::ffff:1.2.3.4\/120" is not allowed/,
    );
    assert.equal(run('cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))'), true);
    assert.equal(run('cidr("192.168.0.0/24").containsIP("192.168.1.1")'), false);
    assert.equal(
      run(
        'cidr("2001:db8::/32").containsIP("2001:db8::1") && !cidr("2001:db8::/32").containsIP("2001:dc8::1")',
      ),
      true,
    );
    assert.equal(run('cidr("192.168.0.0/24").containsIP("::1")'), false);
    assert.equal(run('cidr("192.168.0.0/24").containsCIDR(cidr("192.168.0.0/25"))'), true);
    assert.equal(run('cidr("192.168.0.0/24").containsCIDR("192.168.0.0/23")'), false);
    assert.equal(run('cidr("2001:db8::/32").containsCIDR("2001:db8::/33")'), true);
    assert.equal(run('string(cidr("192.168.0.1/24").masked())'), "192.168.0.0/24");
    assert.equal(run('string(cidr("2001:db8:1::/32").masked())'), "2001:db8::/32");
    assert.equal(run('cidr("192.168.0.1/24").ip() == ip("192.168.0.1")'), true);
    assert.equal(run('cidr("::1/128").prefixLength()'), 128n);
    assert.equal(run('cidr("192.168.0.0/24") == cidr("192.168.0.0/24").masked()'), true);
    assert.equal(run('cidr("192.168.0.1/24") == cidr("192.168.0.1/24").masked()'), false);
    assert.equal(run('isCIDR("10.0.0.0/8") && !isCIDR("10.0.0.0/08") && !isCIDR("10.0.0.0")'), true);
    assert.equal(run('type(cidr("192.168.0.0/24")) == net.CIDR'), true);
  });

  it("format: named formats, validate answering optional lists of kube's messages", () => {
    assert.equal(run('format.dns1123Label().validate("my-label-name").hasValue()'), false);
    assert.deepEqual(run('format.dns1123Label().validate("My_Name").value()'), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    assert.equal(
      run('format.named("dns1123Subdomain").value().validate("apiextensions.k8s.io").hasValue()'),
      false,
    );
    assert.equal(run('format.named("unknown").hasValue()'), false);
    assert.equal(run('format.dns1035Label().validate("1abc").hasValue()'), true);
    assert.equal(run('format.qualifiedName().validate("apiextensions.k8s.io/v1beta1").hasValue()'), false);
    assert.equal(run('format.dns1123LabelPrefix().validate("my-label-prefix-").hasValue()'), false);
    assert.equal(run('format.dns1123SubdomainPrefix().validate("mysubdomain.prefix.-").hasValue()'), false);
    assert.equal(run('format.dns1035LabelPrefix().validate("my-label-prefix-").hasValue()'), false);
    assert.equal(run('format.labelValue().validate("a b").hasValue()'), true);
    assert.equal(run('format.uri().validate("http://example.com").hasValue()'), false);
    assert.deepEqual(run('format.uri().validate("example.com").value()'), [
      'parse "example.com": invalid URI for request',
    ]);
    assert.equal(run('format.uuid().validate("123e4567-e89b-12d3-a456-426614174000").hasValue()'), false);
    assert.deepEqual(run('format.uuid().validate("x").value()'), ["does not match the UUID format"]);
    assert.deepEqual(run('format.byte().validate("a").value()'), ["invalid base64"]);
    assert.equal(run('format.date().validate("2021-01-01").hasValue()'), false);
    assert.deepEqual(run('format.date().validate("2021-13-01").value()'), ["invalid date"]);
    assert.equal(run('format.datetime().validate("2021-01-01T00:00:00Z").hasValue()'), false);
    assert.deepEqual(run('format.datetime().validate("yesterday").value()'), ["invalid datetime"]);
    assert.equal(run('format.named("labelValue").value() == format.labelValue()'), true);
  });
  it("cost meter: list reads and map keys are charged; passing the per-call limit interrupts", () => {
    const meter = new CostMeter(100);
    const data = meter.track({ list: [1, 2, 3], map: { a: 1, b: 2 } });
    meter.startCall();
    assert.equal(run("object.list.all(x, x > 0)", data), true);
    assert.equal(meter.callCost, 3);
    meter.startCall();
    assert.equal(run("object.map.exists(k, k == 'b')", data), true);
    assert.ok(meter.callCost >= 2);
    const big = meter.track(Array.from({ length: 20 }, (_, i) => i));
    meter.startCall();
    assert.throws(() => run("object.all(x, object.all(y, true))", big), /actual cost limit exceeded/);
    assert.equal(meter.callExceeded, true);
    assert.ok(meter.callCost > 100);
  });
});
