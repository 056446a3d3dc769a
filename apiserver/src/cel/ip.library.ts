// k8s.io/apiserver/pkg/cel/library/ip.go: the `net.IP` type — `ip(string)`, `isIP(string)`,
// `ip.isCanonical(string)`, `family()`, the address classes and `string(ip)`. Parsing is Go's
// netip.ParseAddr with kube's extra strictness: no zones, no IPv4-mapped IPv6 addresses.

import type { Environment } from "@marcbachmann/cel-js";
import { goQuote } from "../registry/validation/field.ts";
import { type Addr, parseAddr } from "./netip.ts";

/** A CEL `net.IP` value. */
export class KubeIP {
  constructor(readonly addr: Addr) {}

  equals(o: unknown): boolean {
    return o instanceof KubeIP && o.addr.equals(this.addr);
  }
}

/** The `ip` namespace of `ip.isCanonical(string)` (the function `ip(string)` is separate). */
class IPNamespace {}

/** parseIPAddr: throws kube's error text when `raw` is not an IP address kube accepts. */
export function parseKubeIP(raw: string): Addr {
  let addr: Addr;
  try {
    addr = parseAddr(raw);
  } catch (err) {
    throw new Error(
      `IP Address ${goQuote(raw)} parse error during conversion from string: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (addr.zone !== "") throw new Error(`IP address ${goQuote(raw)} with zone value is not allowed`);
  if (addr.is4In6) throw new Error(`IPv4-mapped IPv6 address ${goQuote(raw)} is not allowed`);
  return addr;
}

/** Registers the IP library on `env`. */
export function registerIPLibrary(env: Environment): void {
  env.registerType("net.IP", KubeIP);
  env.registerType("IPNamespace", IPNamespace);
  env.registerConstant("ip", "IPNamespace", new IPNamespace());
  env.registerFunction("ip(string): net.IP", (s: string) => new KubeIP(parseKubeIP(s)));
  env.registerFunction("isIP(string): bool", (s: string) => {
    try {
      parseKubeIP(s);
      return true;
    } catch {
      return false;
    }
  });
  env.registerFunction(
    "IPNamespace.isCanonical(string): bool",
    (_: unknown, s: string) => parseKubeIP(s).toString() === s,
  );
  env.registerFunction("string(net.IP): string", (ip: KubeIP) => ip.addr.toString());
  env.registerFunction("net.IP.family(): int", (ip: KubeIP) => (ip.addr.is4 ? 4n : 6n));
  env.registerFunction("net.IP.isUnspecified(): bool", (ip: KubeIP) => ip.addr.isUnspecified());
  env.registerFunction("net.IP.isLoopback(): bool", (ip: KubeIP) => ip.addr.isLoopback());
  env.registerFunction("net.IP.isLinkLocalMulticast(): bool", (ip: KubeIP) => ip.addr.isLinkLocalMulticast());
  env.registerFunction("net.IP.isLinkLocalUnicast(): bool", (ip: KubeIP) => ip.addr.isLinkLocalUnicast());
  env.registerFunction("net.IP.isGlobalUnicast(): bool", (ip: KubeIP) => ip.addr.isGlobalUnicast());
  env.registerOperator("net.IP == net.IP", (a: KubeIP, b: KubeIP) => a.equals(b));
}
