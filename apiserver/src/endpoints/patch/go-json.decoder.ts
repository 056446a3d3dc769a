// Decoding a patch body the way kube-apiserver does (encoding/json and sigs.k8s.io/json), so
// that a malformed body gets Go's exact error text: the scanner's syntax errors ("invalid
// character 'x' looking for beginning of value", "unexpected end of JSON input") and the
// decoder's type errors ("json: cannot unmarshal object into Go value of type …").

import { isJsonObject, type JsonValue, type PatchBody } from "./json.types.ts";

/** A body Go's decoder rejects; `message` is err.Error() as Go prints it. */
export class GoJsonError extends Error {
  override readonly name = "GoJsonError";
  constructor(
    message: string,
    readonly syntax: boolean,
  ) {
    super(message);
  }
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Go's quoteChar: how the scanner names an offending byte. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  // strconv.Quote(string(rune(c))) without its quotes; a byte ≥ 0x80 is taken as U+00XX.
  const named: Record<number, string> = {
    0x07: "\\a",
    0x08: "\\b",
    0x0c: "\\f",
    0x0a: "\\n",
    0x0d: "\\r",
    0x09: "\\t",
    0x0b: "\\v",
    0x5c: "\\\\",
  };
  const n = named[c];
  if (n !== undefined) return `'${n}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, "0")}'`;
  if (c >= 0x80 && (c < 0xa1 || c === 0xad)) return `'\\u${c.toString(16).padStart(4, "0")}'`;
  return `'${String.fromCharCode(c)}'`;
}

type Step =
  | "beginValue"
  | "beginValueOrEmpty"
  | "beginStringOrEmpty"
  | "beginString"
  | "endValue"
  | "endTop"
  | "inString"
  | "inStringEsc"
  | "inStringEscU"
  | "inStringEscU1"
  | "inStringEscU12"
  | "inStringEscU123"
  | "neg"
  | "one"
  | "zero"
  | "dot"
  | "dot0"
  | "e"
  | "eSign"
  | "e0"
  | "literal";

type Parse = "objectKey" | "objectValue" | "arrayValue";

/** encoding/json's checkValid: the scanner's error message for `data`, or undefined when valid. */
export function goSyntaxError(data: Uint8Array): string | undefined {
  let step: Step = "beginValue";
  const stack: Parse[] = [];
  let endTop = false;
  // For literals (true, false, null): the remaining bytes and the literal's name.
  let literal = "";
  let literalPos = 0;
  const fail = (c: number, context: string): string => `invalid character ${quoteChar(c)} ${context}`;

  const feed = (c: number): string | undefined => {
    for (;;) {
      switch (step) {
        case "beginValueOrEmpty":
          if (isSpace(c)) return undefined;
          if (c === 0x5d) {
            step = "endValue";
            continue;
          }
          step = "beginValue";
          continue;
        case "beginValue":
          if (isSpace(c)) return undefined;
          switch (c) {
            case 0x7b:
              stack.push("objectKey");
              step = "beginStringOrEmpty";
              return undefined;
            case 0x5b:
              stack.push("arrayValue");
              step = "beginValueOrEmpty";
              return undefined;
            case 0x22:
              step = "inString";
              return undefined;
            case 0x2d:
              step = "neg";
              return undefined;
            case 0x30:
              step = "zero";
              return undefined;
            case 0x74:
              literal = "true";
              literalPos = 1;
              step = "literal";
              return undefined;
            case 0x66:
              literal = "false";
              literalPos = 1;
              step = "literal";
              return undefined;
            case 0x6e:
              literal = "null";
              literalPos = 1;
              step = "literal";
              return undefined;
          }
          if (c >= 0x31 && c <= 0x39) {
            step = "one";
            return undefined;
          }
          return fail(c, "looking for beginning of value");
        case "beginStringOrEmpty":
          if (isSpace(c)) return undefined;
          if (c === 0x7d) {
            stack[stack.length - 1] = "objectValue";
            step = "endValue";
            continue;
          }
          step = "beginString";
          continue;
        case "beginString":
          if (isSpace(c)) return undefined;
          if (c === 0x22) {
            step = "inString";
            return undefined;
          }
          return fail(c, "looking for beginning of object key string");
        case "endValue": {
          const top = stack[stack.length - 1];
          if (top === undefined) {
            step = "endTop";
            endTop = true;
            continue;
          }
          if (isSpace(c)) return undefined;
          switch (top) {
            case "objectKey":
              if (c === 0x3a) {
                stack[stack.length - 1] = "objectValue";
                step = "beginValue";
                return undefined;
              }
              return fail(c, "after object key");
            case "objectValue":
              if (c === 0x2c) {
                stack[stack.length - 1] = "objectKey";
                step = "beginString";
                return undefined;
              }
              if (c === 0x7d) {
                stack.pop();
                step = "endValue";
                if (stack.length === 0) endTop = true;
                return undefined;
              }
              return fail(c, "after object key:value pair");
            case "arrayValue":
              if (c === 0x2c) {
                step = "beginValue";
                return undefined;
              }
              if (c === 0x5d) {
                stack.pop();
                step = "endValue";
                if (stack.length === 0) endTop = true;
                return undefined;
              }
              return fail(c, "after array element");
          }
          return undefined;
        }
        case "endTop":
          if (!isSpace(c)) return fail(c, "after top-level value");
          return undefined;
        case "inString":
          if (c === 0x22) {
            step = "endValue";
            if (stack.length === 0) endTop = true;
            return undefined;
          }
          if (c === 0x5c) {
            step = "inStringEsc";
            return undefined;
          }
          if (c < 0x20) return fail(c, "in string literal");
          return undefined;
        case "inStringEsc":
          if ([0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(c)) {
            step = "inString";
            return undefined;
          }
          if (c === 0x75) {
            step = "inStringEscU";
            return undefined;
          }
          return fail(c, "in string escape code");
        case "inStringEscU":
        case "inStringEscU1":
        case "inStringEscU12":
        case "inStringEscU123":
          if (!isHex(c)) return fail(c, "in \\u hexadecimal character escape");
          step =
            step === "inStringEscU"
              ? "inStringEscU1"
              : step === "inStringEscU1"
                ? "inStringEscU12"
                : step === "inStringEscU12"
                  ? "inStringEscU123"
                  : "inString";
          return undefined;
        case "neg":
          if (c === 0x30) {
            step = "zero";
            return undefined;
          }
          if (c >= 0x31 && c <= 0x39) {
            step = "one";
            return undefined;
          }
          return fail(c, "in numeric literal");
        case "one":
          if (isDigit(c)) return undefined;
          step = "zero";
          continue;
        case "zero":
          if (c === 0x2e) {
            step = "dot";
            return undefined;
          }
          if (c === 0x65 || c === 0x45) {
            step = "e";
            return undefined;
          }
          step = "endValue";
          if (stack.length === 0) endTop = true;
          continue;
        case "dot":
          if (isDigit(c)) {
            step = "dot0";
            return undefined;
          }
          return fail(c, "after decimal point in numeric literal");
        case "dot0":
          if (isDigit(c)) return undefined;
          if (c === 0x65 || c === 0x45) {
            step = "e";
            return undefined;
          }
          step = "endValue";
          if (stack.length === 0) endTop = true;
          continue;
        case "e":
          if (c === 0x2b || c === 0x2d) {
            step = "eSign";
            return undefined;
          }
          step = "eSign";
          continue;
        case "eSign":
          if (isDigit(c)) {
            step = "e0";
            return undefined;
          }
          return fail(c, "in exponent of numeric literal");
        case "e0":
          if (isDigit(c)) return undefined;
          step = "endValue";
          if (stack.length === 0) endTop = true;
          continue;
        case "literal": {
          const want = literal.charCodeAt(literalPos);
          if (c !== want) {
            return fail(c, `in literal ${literal} (expecting ${quoteChar(want)})`);
          }
          literalPos++;
          if (literalPos === literal.length) {
            step = "endValue";
            if (stack.length === 0) endTop = true;
          }
          return undefined;
        }
      }
    }
  };

  for (const c of data) {
    const err = feed(c);
    if (err !== undefined) return err;
  }
  // scanner.eof: a trailing number or literal still needs a byte to end.
  if (endTop) return undefined;
  const err = feed(0x20);
  if (err !== undefined) return err;
  if (endTop) return undefined;
  return "unexpected end of JSON input";
}

const toBytes = (body: PatchBody): Uint8Array =>
  typeof body === "string" ? new TextEncoder().encode(body) : body;

/** Decodes a body as Go does (invalid UTF-8 becomes U+FFFD); throws GoJsonError on bad syntax. */
export function goDecode(body: PatchBody): JsonValue {
  const bytes = toBytes(body);
  const syntax = goSyntaxError(bytes);
  if (syntax !== undefined) throw new GoJsonError(syntax, true);
  const text = typeof body === "string" ? body : new TextDecoder().decode(bytes);
  return JSON.parse(text) as JsonValue;
}

/** The word Go's UnmarshalTypeError uses for a JSON value ("object", "array", "number"…). */
export function goJsonKind(v: JsonValue): string {
  if (Array.isArray(v)) return "array";
  if (isJsonObject(v)) return "object";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "bool";
  return "null";
}

const typeError = (v: JsonValue, goTypeName: string): GoJsonError =>
  new GoJsonError(`json: cannot unmarshal ${goJsonKind(v)} into Go value of type ${goTypeName}`, false);

/** Unmarshalling into map[string]interface{}: an object or null, or Go's type error. */
export function checkDecodesToMap(v: JsonValue): void {
  if (v !== null && !isJsonObject(v)) throw typeError(v, "map[string]interface {}");
}

/**
 * Unmarshalling a JSON patch the two ways kube does: into []handlers.jsonPatchOp (strict
 * decoding, fieldValidation Warn or Strict; op, path and from are strings) or into
 * jsonpatch.Patch ([]map[string]*json.RawMessage, fieldValidation Ignore). Go reports the
 * first type error in document order.
 */
export function checkDecodesToJsonPatch(v: JsonValue, strict: boolean): void {
  if (v === null) return;
  if (!Array.isArray(v)) throw typeError(v, strict ? "[]handlers.jsonPatchOp" : "jsonpatch.Patch");
  for (const op of v) {
    if (op === null) continue;
    if (!isJsonObject(op)) throw typeError(op, strict ? "handlers.jsonPatchOp" : "jsonpatch.Operation");
    if (!strict) continue;
    for (const key of Object.keys(op)) {
      // Case-sensitive matching of the struct's json tags; value is interface{}.
      if (key !== "op" && key !== "path" && key !== "from") continue;
      const field = op[key] as JsonValue;
      if (field !== null && typeof field !== "string") {
        throw new GoJsonError(
          `json: cannot unmarshal ${goJsonKind(field)} into Go struct field jsonPatchOp.${key} of type string`,
          false,
        );
      }
    }
  }
}
