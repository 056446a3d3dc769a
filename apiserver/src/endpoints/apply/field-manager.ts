// Which field manager a write is recorded for, and the checks kube-apiserver makes on the
// fieldManager and force query parameters (ValidateFieldManager, ValidatePatchOptions).

import { badRequest, invalid, type FieldError, type StatusError } from "../../apierrors/status.ts";

/** FieldManagerMaxLength. */
export const fieldManagerMaxLength = 128;

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const isPrint = (ch: string): boolean => ch === " " || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);

/**
 * prefixFromUserAgent: the User-Agent up to its first "/", without unprintable characters,
 * cut to 128 bytes ("kubectl/v1.32.0 (linux/amd64) kubernetes/…" → "kubectl").
 */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const prefix = (userAgent ?? "").split("/")[0] ?? "";
  let out = "";
  let bytes = 0;
  for (const ch of prefix) {
    if (!isPrint(ch)) continue;
    const n = Buffer.byteLength(ch);
    if (bytes + n > fieldManagerMaxLength) break;
    out += ch;
    bytes += n;
  }
  return out;
}

const goEscapes: Record<string, string> = {
  "\u0007": "\\a",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\v": "\\v",
  "\\": "\\\\",
  '"': '\\"',
};

/** strconv.Quote: Go's escapes for control characters, printable runes as they are. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const escaped = goEscapes[ch];
    if (escaped !== undefined) out += escaped;
    else if (isPrint(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0) ?? 0;
      out +=
        cp < 0x80
          ? `\\x${cp.toString(16).padStart(2, "0")}`
          : cp < 0x10000
            ? `\\u${cp.toString(16).padStart(4, "0")}`
            : `\\U${cp.toString(16).padStart(8, "0")}`;
    }
  }
  return `${out}"`;
}

/** %#U of a rune: `U+0007`, or `U+00E9 'é'` when printable. */
function goRuneU(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, "0");
  return isPrint(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

/** ValidateFieldManager's errors for the fieldManager parameter. */
export function fieldManagerErrors(fieldManager: string): FieldError[] {
  const errors: FieldError[] = [];
  if (fieldManager.length > fieldManagerMaxLength) {
    errors.push({
      type: "FieldValueTooLong",
      field: "fieldManager",
      detail: `Too long: may not be more than ${fieldManagerMaxLength} bytes`,
    });
  }
  let position = 0;
  for (const ch of fieldManager) {
    if (!isPrint(ch)) {
      errors.push({
        type: "FieldValueInvalid",
        field: "fieldManager",
        detail: `Invalid value: ${goQuote(fieldManager)}: invalid character ${goRuneU(ch)} (at position ${position})`,
      });
    }
    position += Buffer.byteLength(ch);
  }
  return errors;
}

type OptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions";

const optionsInvalid = (kind: OptionsKind, errors: FieldError[]): StatusError =>
  invalid({ group: "meta.k8s.io", kind }, "", errors);

/**
 * The manager a create, update or non-apply patch is recorded for: ?fieldManager= when given
 * (checked as upstream: 422 on the options kind), otherwise the User-Agent's prefix.
 */
export function writeManager(
  query: URLSearchParams,
  userAgent: string | undefined,
  kind: OptionsKind,
): string {
  const given = query.get("fieldManager") ?? "";
  const errors = fieldManagerErrors(given);
  if (kind === "PatchOptions" && query.has("force")) {
    errors.unshift({
      type: "FieldValueForbidden",
      field: "force",
      detail: "Forbidden: may not be specified for non-apply patch",
    });
  }
  if (errors.length > 0) throw optionsInvalid(kind, errors);
  return given !== "" ? given : managerFromUserAgent(userAgent);
}

/** The manager and force flag of an apply patch: fieldManager is required (422 without). */
export function applyOptions(query: URLSearchParams): { manager: string; force: boolean } {
  const manager = query.get("fieldManager") ?? "";
  const errors = fieldManagerErrors(manager);
  if (manager === "") {
    errors.unshift({
      type: "FieldValueRequired",
      field: "fieldManager",
      detail: "Required value: is required for apply patch",
    });
  }
  if (errors.length > 0) throw optionsInvalid("PatchOptions", errors);
  const raw = query.get("force");
  let force = false;
  if (raw !== null && raw !== "") {
    if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(raw)) {
      throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
    }
    force = /^(1|t|T|TRUE|true|True)$/.test(raw);
  }
  return { manager, force };
}
