// Go's formatting and ordering where kube's messages and canonical strings depend on them:
// strconv.Quote (fmt's %q and %#v of a string), %#v of a []string, and Go's byte-wise
// string order (sort.Strings), which differs from JavaScript's UTF-16 order past U+FFFF.

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const isGoPrint = (ch: string): boolean => ch === " " || printable.test(ch);

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

const namedEscapes: Readonly<Record<string, string>> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
};

/** Printable ASCII other than `"` and `\`: quoted as it is (the common case, kept cheap). */
const plainAscii = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** strconv.Quote, i.e. what `%q` prints for a string. */
export function goQuote(s: string): string {
  if (plainAscii.test(s)) return `"${s}"`;
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    // A lone surrogate reaches Go as U+FFFD once the request is encoded as UTF-8.
    if (cp >= 0xd800 && cp <= 0xdfff) {
      out += "\ufffd";
    } else if (ch === '"' || ch === "\\") {
      out += `\\${ch}`;
    } else if (isGoPrint(ch)) {
      out += ch;
    } else if (namedEscapes[ch] !== undefined) {
      out += namedEscapes[ch];
    } else if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${hex(cp, 2)}`;
    } else if (cp < 0x10000) {
      out += `\\u${hex(cp, 4)}`;
    } else {
      out += `\\U${hex(cp, 8)}`;
    }
  }
  return `${out}"`;
}

/** `%#v` of a []string: `[]string(nil)` for nil, else `[]string{"a", "b"}`. */
export const goStringSlice = (values: readonly string[] | null): string =>
  values === null ? "[]string(nil)" : `[]string{${values.map(goQuote).join(", ")}}`;

/** Go's `a < b` on strings: byte order of their UTF-8 encodings, i.e. code point order. */
export function compareGoStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800–DFFF) encode code points above FFFF: they sort after E000–FFFF in UTF-8.
    const hiX = x >= 0xd800 && x <= 0xdfff;
    const hiY = y >= 0xd800 && y <= 0xdfff;
    if (hiX !== hiY && (x >= 0xe000 || y >= 0xe000)) return hiX ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** len(s) in Go: the UTF-8 byte length, which is what kube's length limits count. */
export const goLen = (s: string): number => Buffer.byteLength(s, "utf8");
