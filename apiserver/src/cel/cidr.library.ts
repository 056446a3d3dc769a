// k8s.io/apiserver/pkg/cel/library/cidr.go: the `net.CIDR` type — `cidr(string)`,
// `isCIDR(string)`, `containsIP(ip|string)`, `containsCIDR(cidr|string)`, `ip()`, `masked()`,
// `prefixLength()` and `string(cidr)`, with Go's netip.ParsePrefix and kube's error texts
// (including its doubled "network address parse error" prefix and its containsCIDR test,
// which compares the other prefix's address as written with this prefix's masked address).

import type { Environment } from "@marcbachmann/cel-js";
import { goQuote } from "../registry/validation/field.ts";
import { KubeIP, parseKubeIP } from "./ip.library.ts";
import { type Prefix, parsePrefix } from "./netip.ts";

const parseError = "network address parse error during conversion from string";

/** A CEL `net.CIDR` value. */
export class KubeCIDR {
  constructor(readonly prefix: Prefix) {}

  equals(o: unknown): boolean {
    return o instanceof KubeCIDR && o.prefix.equals(this.prefix);
  }

  /** cidrContainsCIDR: same masked network and a prefix at least as long. */
  containsCIDR(o: KubeCIDR): boolean {
    const mine = this.prefix.masked();
    return mine.addr.equals(o.prefix.addr) && this.prefix.bits <= o.prefix.bits;
  }
}

/** parseCIDR: throws kube's error text when `raw` is not a CIDR kube accepts. */
function parseKubeCIDR(raw: string): Prefix {
  let p: Prefix;
  try {
    p = parsePrefix(raw);
  } catch (err) {
    throw new Error(`${parseError}: ${(err as Error).message}`, { cause: err });
  }
  if (p.addr.is4In6) throw new Error(`IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return p;
}

/** stringToCIDR: kube wraps parseCIDR's message once more. */
function stringToCIDR(raw: string): KubeCIDR {
  try {
    return new KubeCIDR(parseKubeCIDR(raw));
  } catch (err) {
    throw new Error(`${parseError}: ${(err as Error).message}`, { cause: err });
  }
}

/** Registers the CIDR library on `env` (after the IP library, whose type it uses). */
export function registerCIDRLibrary(env: Environment): void {
  env.registerType("net.CIDR", KubeCIDR);
  env.registerFunction("cidr(string): net.CIDR", stringToCIDR);
  env.registerFunction("isCIDR(string): bool", (s: string) => {
    try {
      parseKubeCIDR(s);
      return true;
    } catch {
      return false;
    }
  });
  env.registerFunction("string(net.CIDR): string", (c: KubeCIDR) => c.prefix.toString());
  env.registerFunction("net.CIDR.containsIP(net.IP): bool", (c: KubeCIDR, ip: KubeIP) =>
    c.prefix.contains(ip.addr),
  );
  env.registerFunction("net.CIDR.containsIP(string): bool", (c: KubeCIDR, s: string) => {
    let ip: KubeIP;
    try {
      ip = new KubeIP(parseKubeIP(s));
    } catch {
      // Upstream hands the parse error to the IP overload, which answers "no such overload".
      throw new Error("no such overload");
    }
    return c.prefix.contains(ip.addr);
  });
  env.registerFunction("net.CIDR.containsCIDR(net.CIDR): bool", (c: KubeCIDR, o: KubeCIDR) =>
    c.containsCIDR(o),
  );
  env.registerFunction("net.CIDR.containsCIDR(string): bool", (c: KubeCIDR, s: string) =>
    c.containsCIDR(stringToCIDR(s)),
  );
  env.registerFunction("net.CIDR.ip(): net.IP", (c: KubeCIDR) => new KubeIP(c.prefix.addr));
  env.registerFunction("net.CIDR.masked(): net.CIDR", (c: KubeCIDR) => new KubeCIDR(c.prefix.masked()));
  env.registerFunction("net.CIDR.prefixLength(): int", (c: KubeCIDR) => BigInt(c.prefix.bits));
  env.registerOperator("net.CIDR == net.CIDR", (a: KubeCIDR, b: KubeCIDR) => a.equals(b));
  // The type names `net.IP` and `net.CIDR` as values (`type(x) == net.CIDR`); the engine's type
  // values are per environment, so they are taken from this one.
  const net = new NetNamespace();
  env.registerType("NetNamespace", { ctor: NetNamespace, fields: { IP: "type", CIDR: "type" } });
  env.registerConstant("net", "NetNamespace", net);
  net.IP = env.evaluate('type(ip("0.0.0.0"))');
  net.CIDR = env.evaluate('type(cidr("0.0.0.0/0"))');
}

class NetNamespace {
  IP: unknown = null;
  CIDR: unknown = null;
}
