// Go's net/netip as the Kubernetes IP and CIDR CEL libraries use it: ParseAddr and
// ParsePrefix with their exact error texts, RFC 5952 text forms, masking and the address
// classes (loopback, link-local, global unicast…). Addresses are 4 or 16 bytes.

import { goQuote } from "../registry/validation/field.ts";

/** A netip.Addr: 4 bytes (IPv4) or 16 bytes (IPv6, possibly IPv4-mapped), with its zone. */
export class Addr {
  constructor(
    readonly bytes: Uint8Array,
    readonly zone = "",
  ) {}

  get is4(): boolean {
    return this.bytes.length === 4;
  }

  get is6(): boolean {
    return this.bytes.length === 16;
  }

  /** An IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
  get is4In6(): boolean {
    const b = this.bytes;
    return this.is6 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  }

  get bitLen(): number {
    return this.bytes.length * 8;
  }

  private u16(i: number): number {
    return ((this.bytes[2 * i] ?? 0) << 8) | (this.bytes[2 * i + 1] ?? 0);
  }

  isUnspecified(): boolean {
    return this.bytes.every((x) => x === 0);
  }

  isLoopback(): boolean {
    if (this.is4) return this.bytes[0] === 127;
    return this.bytes.slice(0, 15).every((x) => x === 0) && this.bytes[15] === 1;
  }

  isMulticast(): boolean {
    if (this.is4) return ((this.bytes[0] ?? 0) & 0xf0) === 0xe0;
    return this.bytes[0] === 0xff;
  }

  isLinkLocalMulticast(): boolean {
    if (this.is4) return this.bytes[0] === 224 && this.bytes[1] === 0 && this.bytes[2] === 0;
    return (this.u16(0) & 0xff0f) === 0xff02;
  }

  isLinkLocalUnicast(): boolean {
    if (this.is4) return this.bytes[0] === 169 && this.bytes[1] === 254;
    return (this.u16(0) & 0xffc0) === 0xfe80;
  }

  /** As net.IP.IsGlobalUnicast: private IPv4 and ULA IPv6 addresses count as global. */
  isGlobalUnicast(): boolean {
    const ip = this.is4In6 ? new Addr(this.bytes.slice(12)) : this;
    if (ip.is4 && (ip.isUnspecified() || ip.bytes.every((x) => x === 255))) return false;
    return !ip.isUnspecified() && !ip.isLoopback() && !ip.isMulticast() && !ip.isLinkLocalUnicast();
  }

  /** Addr.String: dotted decimal, or RFC 5952 (longest run of two or more zero groups as "::"). */
  toString(): string {
    const zone = this.zone === "" ? "" : `%${this.zone}`;
    if (this.is4) return this.bytes.join(".");
    if (this.is4In6) return `::ffff:${this.bytes.slice(12).join(".")}${zone}`;
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
      let j = i;
      while (j < 8 && this.u16(j) === 0) j++;
      if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
      i = j === i ? i + 1 : j;
    }
    let out = "";
    for (let i = 0; i < 8; i++) {
      if (i === best) {
        out += "::";
        i += bestLen - 1;
        continue;
      }
      if (out !== "" && !out.endsWith(":")) out += ":";
      out += this.u16(i).toString(16);
    }
    return out + zone;
  }

  equals(o: unknown): boolean {
    return (
      o instanceof Addr &&
      o.zone === this.zone &&
      o.bytes.length === this.bytes.length &&
      o.bytes.every((x, i) => x === this.bytes[i])
    );
  }
}

/** A netip.Prefix: an address (host bits kept as written) and a prefix length. */
export class Prefix {
  constructor(
    readonly addr: Addr,
    readonly bits: number,
  ) {}

  /** Prefix.Masked: the host bits cleared. */
  masked(): Prefix {
    const b = Uint8Array.from(this.addr.bytes);
    for (let i = 0; i < b.length; i++) {
      const keep = Math.max(0, Math.min(8, this.bits - 8 * i));
      b[i] = (b[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
    }
    return new Prefix(new Addr(b, this.addr.zone), this.bits);
  }

  /** Prefix.Contains: same family, no zone, and the first `bits` bits equal. */
  contains(ip: Addr): boolean {
    if (ip.zone !== "" || ip.bytes.length !== this.addr.bytes.length) return false;
    return new Prefix(ip, this.bits).masked().addr.equals(this.masked().addr);
  }

  toString(): string {
    return `${this.addr.toString()}/${this.bits}`;
  }

  equals(o: unknown): boolean {
    return o instanceof Prefix && o.bits === this.bits && o.addr.equals(this.addr);
  }
}

const q = goQuote;

class ParseAddrError extends Error {
  constructor(input: string, msg: string, at = "") {
    super(`ParseAddr(${q(input)}): ${msg}${at === "" ? "" : ` (at ${q(at)})`}`);
  }
}

/** netip.ParseAddr; throws Go's error text. */
export function parseAddr(s: string): Addr {
  for (const c of s) {
    if (c === ".") return parseIPv4(s);
    if (c === ":") return parseIPv6(s);
    if (c === "%") throw new ParseAddrError(s, "missing IPv6 address");
  }
  throw new ParseAddrError(s, "unable to parse IP");
}

/** Parses in[off:end] as four dotted decimal fields into out[0..3]. */
function parseIPv4Fields(input: string, off: number, end: number, out: Uint8Array): void {
  const s = input.slice(off, end);
  let val = 0;
  let pos = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0)
        throw new ParseAddrError(input, "IPv4 field has octet with leading zero");
      val = val * 10 + (c - 48);
      digits++;
      if (val > 255) throw new ParseAddrError(input, "IPv4 field has value >255");
    } else if (s[i] === ".") {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".")
        throw new ParseAddrError(input, "IPv4 field must have at least one digit", s.slice(i));
      if (pos === 3) throw new ParseAddrError(input, "IPv4 address too long");
      out[pos++] = val;
      val = 0;
      digits = 0;
    } else throw new ParseAddrError(input, "unexpected character", s.slice(i));
  }
  if (pos < 3) throw new ParseAddrError(input, "IPv4 address too short");
  out[3] = val;
}

function parseIPv4(s: string): Addr {
  const b = new Uint8Array(4);
  parseIPv4Fields(s, 0, s.length, b);
  return new Addr(b);
}

function hexValue(c: string): number {
  const n = c.charCodeAt(0);
  if (n >= 48 && n <= 57) return n - 48;
  if (n >= 97 && n <= 102) return n - 87;
  if (n >= 65 && n <= 70) return n - 55;
  return -1;
}

function parseIPv6(input: string): Addr {
  let s = input;
  let zone = "";
  const pct = s.indexOf("%");
  if (pct >= 0) {
    zone = s.slice(pct + 1);
    s = s.slice(0, pct);
    if (zone === "") throw new ParseAddrError(input, "zone must be a non-empty string");
  }
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === "") return new Addr(ip, zone);
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const h = hexValue(s[off] ?? "");
      if (h < 0) break;
      acc = acc * 16 + h;
      if (off > 3) throw new ParseAddrError(input, "each group must have 4 or less digits", s);
      if (acc > 0xffff) throw new ParseAddrError(input, "IPv6 field has value >=2^16", s);
    }
    if (off === 0)
      throw new ParseAddrError(input, "each colon-separated field must have at least one digit", s);
    if (off < s.length && s[off] === ".") {
      if (ellipsis < 0 && i !== 12)
        throw new ParseAddrError(
          input,
          "embedded IPv4 address must replace the final 2 fields of the address",
          s,
        );
      if (i + 4 > 16)
        throw new ParseAddrError(
          input,
          "too many hex fields to fit an embedded IPv4 at the end of the address",
          s,
        );
      const end = input.length - (zone === "" ? 0 : zone.length + 1);
      parseIPv4Fields(input, end - s.length, end, ip.subarray(i, i + 4));
      s = "";
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s === "") break;
    if (s[0] !== ":") throw new ParseAddrError(input, "unexpected character, want colon", s);
    if (s.length === 1) throw new ParseAddrError(input, "colon must be followed by more characters", s);
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) throw new ParseAddrError(input, "multiple :: in address", s);
      ellipsis = i;
      s = s.slice(1);
      if (s === "") break;
    }
  }
  if (s !== "") throw new ParseAddrError(input, "trailing garbage after address", s);
  if (i < 16) {
    if (ellipsis < 0) throw new ParseAddrError(input, "address string too short");
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j] ?? 0;
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    throw new ParseAddrError(input, "the :: must expand to at least one field of zeros", s);
  }
  return new Addr(ip, zone);
}

/** netip.ParsePrefix; throws Go's error text. The address keeps its host bits. */
export function parsePrefix(s: string): Prefix {
  const fail = (msg: string): Error => new Error(`netip.ParsePrefix(${q(s)}): ${msg}`);
  const slash = s.lastIndexOf("/");
  if (slash < 0) throw fail("no '/'");
  let ip: Addr;
  try {
    ip = parseAddr(s.slice(0, slash));
  } catch (err) {
    throw fail((err as Error).message);
  }
  if (ip.is6 && ip.zone !== "") throw fail("IPv6 zones cannot be present in a prefix");
  const bitsStr = s.slice(slash + 1);
  const badBits = fail(`bad bits after slash: ${q(bitsStr)}`);
  if (bitsStr.length > 1 && !/^[1-9]/.test(bitsStr)) throw badBits;
  // strconv.Atoi: an optional sign and decimal digits.
  if (!/^[+-]?\d+$/.test(bitsStr)) throw badBits;
  const bits = Number(bitsStr);
  if (bits < 0 || bits > ip.bitLen) throw fail("prefix length out of range");
  return new Prefix(ip, bits);
}
