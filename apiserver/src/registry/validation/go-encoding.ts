// Two Go standard-library behaviours kube's messages depend on, reproduced byte for byte:
// encoding/base64's StdEncoding decoder (how []byte fields such as Secret.data decode, and its
// "illegal base64 data at input byte N"), and encoding/json's syntax checker and top-level type
// check (the errors ValidateSecret reports for a malformed .dockercfg / .dockerconfigjson).

import { goQuote } from "./field.ts";

// ---- base64 -------------------------------------------------------------------------------

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const decodeMap = new Int16Array(256).fill(-1);
for (let i = 0; i < alphabet.length; i++) decodeMap[alphabet.charCodeAt(i)] = i;

const NL = 0x0a;
const CR = 0x0d;
const PAD = 0x3d;

export type Base64Result = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

/** base64.StdEncoding.DecodeString over the UTF-8 bytes of `s` (padding required; \r and \n skipped). */
export function decodeBase64Std(s: string): Base64Result {
  const src = Buffer.from(s, "utf8");
  const dst: number[] = [];
  let si = 0;
  while (si < src.length) {
    const r = decodeQuantum(dst, src, si);
    si = r.si;
    if (r.corruptAt !== undefined)
      return { ok: false, error: `illegal base64 data at input byte ${r.corruptAt}` };
    if (r.done) break;
  }
  return { ok: true, bytes: Uint8Array.from(dst) };
}

const byteAt = (src: Uint8Array, i: number): number => src[i] ?? 0;
const isNewline = (c: number): boolean => c === NL || c === CR;

/** One 4-character quantum of Go's (*Encoding).decodeQuantum for a padded encoding. */
function decodeQuantum(
  dst: number[],
  src: Uint8Array,
  start: number,
): { si: number; corruptAt?: number; done?: boolean } {
  const dbuf = [0, 0, 0, 0];
  let dlen = 4;
  let si = start;
  let trailing: number | undefined;
  for (let j = 0; j < 4; j++) {
    if (src.length === si) {
      if (j === 0) return { si, done: true };
      return { si, corruptAt: si - j };
    }
    const c = byteAt(src, si);
    si++;
    const out = decodeMap[c] ?? -1;
    if (out !== -1) {
      dbuf[j] = out;
      continue;
    }
    if (isNewline(c)) {
      j--;
      continue;
    }
    if (c !== PAD) return { si, corruptAt: si - 1 };
    // Padding: only after two or three data characters.
    if (j === 0 || j === 1) return { si, corruptAt: si - 1 };
    if (j === 2) {
      while (si < src.length && isNewline(byteAt(src, si))) si++;
      if (si === src.length) return { si, corruptAt: src.length };
      if (byteAt(src, si) !== PAD) return { si, corruptAt: si - 1 };
      si++;
    }
    while (si < src.length && isNewline(byteAt(src, si))) si++;
    if (si < src.length) trailing = si;
    dlen = j;
    break;
  }
  const val = ((dbuf[0] ?? 0) << 18) | ((dbuf[1] ?? 0) << 12) | ((dbuf[2] ?? 0) << 6) | (dbuf[3] ?? 0);
  const bytes = [(val >> 16) & 0xff, (val >> 8) & 0xff, val & 0xff];
  dst.push(...bytes.slice(0, dlen - 1));
  return trailing === undefined ? { si } : { si, corruptAt: trailing };
}

// ---- JSON ---------------------------------------------------------------------------------

/** encoding/json's quoteChar: how a syntax error names the offending byte. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const q = goQuote(String.fromCharCode(c));
  return `'${q.slice(1, -1)}'`;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
const ch = (s: string): number => s.charCodeAt(0);

type ParseState = "objectKey" | "objectValue" | "arrayValue";
type State = (c: number) => void;

/** encoding/json's scanner, reduced to what checkValid needs. */
class Scanner {
  err: string | undefined;
  endTop = false;
  private stack: ParseState[] = [];
  step: State = (c) => this.beginValue(c);

  private fail(c: number, context: string): void {
    this.err = `invalid character ${quoteChar(c)} ${context}`;
    this.step = () => undefined;
  }

  private literal(expect: string, name: string, next: State): State {
    return (c) => {
      if (c === ch(expect)) this.step = next;
      else this.fail(c, `in literal ${name} (expecting ${quoteChar(ch(expect))})`);
    };
  }

  beginValueOrEmpty(c: number): void {
    if (isSpace(c)) return;
    if (c === ch("]")) return this.endValue(c);
    this.beginValue(c);
  }

  beginValue(c: number): void {
    if (isSpace(c)) return;
    switch (c) {
      case ch("{"):
        this.step = (x) => this.beginStringOrEmpty(x);
        this.stack.push("objectKey");
        return;
      case ch("["):
        this.step = (x) => this.beginValueOrEmpty(x);
        this.stack.push("arrayValue");
        return;
      case ch('"'):
        this.step = (x) => this.inString(x);
        return;
      case ch("-"):
        this.step = (x) => this.neg(x);
        return;
      case ch("0"):
        this.step = (x) => this.zero(x);
        return;
      case ch("t"):
        this.step = this.literal(
          "r",
          "true",
          this.literal("u", "true", this.literal("e", "true", this.endValueState)),
        );
        return;
      case ch("f"):
        this.step = this.literal(
          "a",
          "false",
          this.literal(
            "l",
            "false",
            this.literal("s", "false", this.literal("e", "false", this.endValueState)),
          ),
        );
        return;
      case ch("n"):
        this.step = this.literal(
          "u",
          "null",
          this.literal("l", "null", this.literal("l", "null", this.endValueState)),
        );
        return;
    }
    if (c >= ch("1") && c <= ch("9")) {
      this.step = (x) => this.one(x);
      return;
    }
    this.fail(c, "looking for beginning of value");
  }

  private endValueState: State = (c) => this.endValue(c);

  private beginStringOrEmpty(c: number): void {
    if (isSpace(c)) return;
    if (c === ch("}")) {
      this.stack[this.stack.length - 1] = "objectValue";
      return this.endValue(c);
    }
    this.beginString(c);
  }

  private beginString(c: number): void {
    if (isSpace(c)) return;
    if (c === ch('"')) {
      this.step = (x) => this.inString(x);
      return;
    }
    this.fail(c, "looking for beginning of object key string");
  }

  private endValue(c: number): void {
    const n = this.stack.length;
    if (n === 0) {
      this.step = (x) => this.endTopState(x);
      this.endTop = true;
      return this.endTopState(c);
    }
    if (isSpace(c)) {
      this.step = this.endValueState;
      return;
    }
    switch (this.stack[n - 1]) {
      case "objectKey":
        if (c === ch(":")) {
          this.stack[n - 1] = "objectValue";
          this.step = (x) => this.beginValue(x);
          return;
        }
        return this.fail(c, "after object key");
      case "objectValue":
        if (c === ch(",")) {
          this.stack[n - 1] = "objectKey";
          this.step = (x) => this.beginString(x);
          return;
        }
        if (c === ch("}")) return this.pop();
        return this.fail(c, "after object key:value pair");
      case "arrayValue":
        if (c === ch(",")) {
          this.step = (x) => this.beginValue(x);
          return;
        }
        if (c === ch("]")) return this.pop();
        return this.fail(c, "after array element");
      case undefined:
        return;
    }
  }

  private pop(): void {
    this.stack.pop();
    if (this.stack.length === 0) {
      this.step = (x) => this.endTopState(x);
      this.endTop = true;
    } else {
      this.step = this.endValueState;
    }
  }

  private endTopState(c: number): void {
    if (!isSpace(c)) this.fail(c, "after top-level value");
  }

  private inString(c: number): void {
    if (c === ch('"')) this.step = this.endValueState;
    else if (c === ch("\\")) this.step = (x) => this.inStringEsc(x);
    else if (c < 0x20) this.fail(c, "in string literal");
  }

  private inStringEsc(c: number): void {
    if ('bfnrt\\/"'.includes(String.fromCharCode(c))) this.step = (x) => this.inString(x);
    else if (c === ch("u")) this.step = this.hex(4);
    else this.fail(c, "in string escape code");
  }

  private hex(left: number): State {
    return (c) => {
      if (!isHex(c)) return this.fail(c, "in \\u hexadecimal character escape");
      this.step = left === 1 ? (x) => this.inString(x) : this.hex(left - 1);
    };
  }

  private neg(c: number): void {
    if (c === ch("0")) this.step = (x) => this.zero(x);
    else if (c >= ch("1") && c <= ch("9")) this.step = (x) => this.one(x);
    else this.fail(c, "in numeric literal");
  }

  private one(c: number): void {
    if (isDigit(c)) return;
    this.zero(c);
  }

  private zero(c: number): void {
    if (c === ch(".")) this.step = (x) => this.dot(x);
    else if (c === ch("e") || c === ch("E")) this.step = (x) => this.exp(x);
    else this.endValue(c);
  }

  private dot(c: number): void {
    if (isDigit(c)) this.step = (x) => this.dot0(x);
    else this.fail(c, "after decimal point in numeric literal");
  }

  private dot0(c: number): void {
    if (isDigit(c)) return;
    if (c === ch("e") || c === ch("E")) this.step = (x) => this.exp(x);
    else this.endValue(c);
  }

  private exp(c: number): void {
    if (c === ch("+") || c === ch("-")) this.step = (x) => this.expSign(x);
    else this.expSign(c);
  }

  private expSign(c: number): void {
    if (isDigit(c)) this.step = (x) => this.exp0(x);
    else this.fail(c, "in exponent of numeric literal");
  }

  private exp0(c: number): void {
    if (!isDigit(c)) this.endValue(c);
  }
}

/** encoding/json's checkValid: undefined when `data` is one well-formed JSON value, else Go's message. */
export function goJsonSyntaxError(data: Uint8Array): string | undefined {
  const s = new Scanner();
  for (const c of data) {
    s.step(c);
    if (s.err !== undefined) return s.err;
  }
  if (s.endTop) return undefined;
  s.step(0x20);
  if (s.err !== undefined) return s.err;
  if (s.endTop) return undefined;
  return "unexpected end of JSON input";
}

/** The error of Go's json.Unmarshal(data, &map[string]interface{}{}), or undefined. */
export function goUnmarshalIntoMapError(data: Uint8Array): string | undefined {
  const syntax = goJsonSyntaxError(data);
  if (syntax !== undefined) return syntax;
  let first = 0;
  for (const c of data) {
    if (!isSpace(c)) {
      first = c;
      break;
    }
  }
  const into = "into Go value of type map[string]interface {}";
  if (first === ch("[")) return `json: cannot unmarshal array ${into}`;
  if (first === ch('"')) return `json: cannot unmarshal string ${into}`;
  if (first === ch("t") || first === ch("f")) return `json: cannot unmarshal bool ${into}`;
  if (first === ch("-") || isDigit(first)) return `json: cannot unmarshal number ${into}`;
  return undefined; // an object, or null (which leaves the map nil)
}
