// k8s.io/apiserver/pkg/cel/library/urls.go: `url(string)` (absolute URIs and absolute paths,
// as Go's url.ParseRequestURI accepts them) with getScheme, getHost, getHostname, getPort,
// getEscapedPath and getQuery; `isURL(string)`.

import type { Environment } from "@marcbachmann/cel-js";

export class KubeURL {
  constructor(
    readonly scheme: string,
    /** host[:port] as written, IPv6 literals in brackets. */
    readonly host: string,
    readonly escapedPath: string,
    readonly rawQuery: string,
  ) {}

  static parse(s: string): KubeURL {
    if (s.startsWith("/")) {
      const q = s.indexOf("?");
      const path = q < 0 ? s : s.slice(0, q);
      return new KubeURL("", "", path, q < 0 ? "" : s.slice(q + 1).split("#")[0]!);
    }
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(s);
    if (scheme === null || /\s/.test(s))
      throw new Error(`URL parse error during conversion from string: parse "${s}": invalid URI for request`);
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new Error(`URL parse error during conversion from string: parse "${s}": invalid URI for request`);
    }
    // The host as written (WHATWG URLs drop default ports; Go keeps them).
    const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(s)?.[1] ?? "";
    return new KubeURL(
      scheme[1]!,
      authority,
      u.pathname === "/" && !/^[^:]+:\/\/[^/]*\//.test(s) ? "" : u.pathname,
      u.search.slice(1),
    );
  }

  get hostname(): string {
    const h = this.host;
    if (h.startsWith("[")) return h.slice(1, h.indexOf("]"));
    const colon = h.lastIndexOf(":");
    return colon < 0 ? h : h.slice(0, colon);
  }

  get port(): string {
    const h = this.host;
    const close = h.lastIndexOf("]");
    const colon = h.lastIndexOf(":");
    return colon > close ? h.slice(colon + 1) : "";
  }

  query(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const [k, v] of new URLSearchParams(this.rawQuery)) out.set(k, [...(out.get(k) ?? []), v]);
    return out;
  }
}

export function registerURLLibrary(env: Environment): void {
  env.registerType("kubernetes.URL", KubeURL);
  env.registerFunction("url(string): kubernetes.URL", (s: string) => KubeURL.parse(s));
  env.registerFunction("isURL(string): bool", (s: string) => {
    try {
      KubeURL.parse(s);
      return true;
    } catch {
      return false;
    }
  });
  env.registerFunction("kubernetes.URL.getScheme(): string", (u: KubeURL) => u.scheme);
  env.registerFunction("kubernetes.URL.getHost(): string", (u: KubeURL) => u.host);
  env.registerFunction("kubernetes.URL.getHostname(): string", (u: KubeURL) => u.hostname);
  env.registerFunction("kubernetes.URL.getPort(): string", (u: KubeURL) => u.port);
  env.registerFunction("kubernetes.URL.getEscapedPath(): string", (u: KubeURL) => u.escapedPath);
  env.registerFunction("kubernetes.URL.getQuery(): map<string, list<string>>", (u: KubeURL) => u.query());
}
