// The string formats a CRD schema may check (apiextensions' supportedFormats, v1.32), as
// predicates over the string. Any other format is ignored, as upstream strips it.

const uuid = (version: string): RegExp =>
  new RegExp(
    `^[0-9a-f]{8}-?[0-9a-f]{4}-?${version}[0-9a-f]{3}-?${version === "[0-9a-f]" ? "[0-9a-f]" : "[89ab]"}[0-9a-f]{3}-?[0-9a-f]{12}$`,
    "i",
  );

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isIPv6(s: string): boolean {
  if (!s.includes(":")) return false;
  let rest = s;
  // An embedded IPv4 tail counts as two groups.
  const lastColon = rest.lastIndexOf(":");
  const tail = rest.slice(lastColon + 1);
  let extraGroups = 0;
  if (tail.includes(".")) {
    if (!ipv4.test(tail)) return false;
    rest = `${rest.slice(0, lastColon + 1)}0`;
    extraGroups = 1;
  }
  const halves = rest.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string): string[] | undefined => {
    if (h === "") return [];
    const g = h.split(":");
    return g.every((x) => /^[0-9a-f]{1,4}$/i.test(x)) ? g : undefined;
  };
  const left = groups(halves[0] ?? "");
  const right = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (left === undefined || right === undefined) return false;
  const n = left.length + right.length + extraGroups;
  return halves.length === 2 ? n < 8 : n === 8;
}

const isIPv4 = (s: string): boolean => ipv4.test(s);

function isCIDR(s: string): boolean {
  const slash = s.indexOf("/");
  if (slash < 0) return false;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (isIPv4(ip)) return Number(bits) <= 32;
  return isIPv6(ip) && Number(bits) <= 128;
}

const hostname =
  /^(?=.{1,255}$)[a-z0-9\p{L}]([-a-z0-9\p{L}]{0,61}[a-z0-9\p{L}])?(\.[a-z0-9\p{L}]([-a-z0-9\p{L}]{0,61}[a-z0-9\p{L}])?)*\.?$/iu;

const dateTime = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/;

function isDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function isDateTime(s: string): boolean {
  const m = dateTime.exec(s);
  if (!m) return false;
  return isDate(`${m[1]}-${m[2]}-${m[3]}`) && Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 61;
}

/** Go's time.ParseDuration, or strfmt's "<n> <unit>" forms. */
const goDuration = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^0$/;
const strfmtDuration =
  /^[-+]?\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?|seconds?|minutes?|hours?|days?|weeks?)$/i;

const base64 = /^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const formats: Readonly<Record<string, (s: string) => boolean>> = {
  bsonobjectid: (s) => /^[0-9a-f]{24}$/i.test(s),
  uri: (s) => /^[a-z][a-z0-9+.-]*:\S*$/i.test(s) || /^\/\S*$/.test(s),
  email: (s) => /^[^\s@<>()]+@[^\s@<>()]+$/.test(s) || /^.*<[^\s@<>()]+@[^\s@<>()]+>$/.test(s),
  hostname: (s) => hostname.test(s),
  ipv4: isIPv4,
  ipv6: isIPv6,
  cidr: isCIDR,
  mac: (s) =>
    /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(s) ||
    /^([0-9a-f]{2}[:-]){19}[0-9a-f]{2}$/i.test(s) ||
    /^([0-9a-f]{4}\.){2}[0-9a-f]{4}$/i.test(s),
  uuid: (s) => uuid("[0-9a-f]").test(s),
  uuid3: (s) => uuid("3").test(s),
  uuid4: (s) => uuid("4").test(s),
  uuid5: (s) => uuid("5").test(s),
  isbn: (s) => /^(\d[- ]?){9}[\dXx]$/.test(s) || /^(\d[- ]?){12}\d$/.test(s),
  isbn10: (s) => /^(\d[- ]?){9}[\dXx]$/.test(s),
  isbn13: (s) => /^(\d[- ]?){12}\d$/.test(s),
  creditcard: (s) =>
    /^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11})$/.test(
      s.replace(/\D/g, ""),
    ),
  ssn: (s) => /^\d{3}[- ]?\d{2}[- ]?\d{4}$/.test(s),
  hexcolor: (s) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(s),
  rgbcolor: (s) =>
    /^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$/.test(
      s,
    ),
  byte: (s) => base64.test(s),
  password: () => true,
  date: isDate,
  duration: (s) => goDuration.test(s) || strfmtDuration.test(s),
  datetime: isDateTime,
  "date-time": isDateTime,
};
