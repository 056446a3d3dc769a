// Proves kubernetes.proto.ts against a real kubectl binary (a Go, non-PIE ELF build):
//
//   node --import tsx apiserver/src/endpoints/protobuf/check-descriptors.ts [/path/to/kubectl]
//
// 1. Field names, numbers, labels and types: against the gzipped FileDescriptorProtos that
//    go-to-protobuf compiles into every Kubernetes binary, one per upstream generated.proto.
// 2. The JSON options ((ptr), (value), (keep), (json)): against the Go structs themselves,
//    read from the binary's reflection data (each struct field's name, tag, and the kind of
//    its type), so that "pointer or value" and "omitempty or not" are Go's, not a guess.
// Prints one line per message and exits 1 on any difference. Run by hand when the schema
// changes; it needs the binary, so the unit tests do not run it.

import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { gunzipSync } from "node:zlib";
import protobuf from "protobufjs";
import { kubernetesRoot, protoFiles, specialMessages } from "./kubernetes.proto.ts";

// --- descriptor.proto, the part this needs (google/protobuf/descriptor.proto) ---
const descriptorRoot = protobuf.parse(
  `syntax = "proto2";
   package google.protobuf;
   message FileDescriptorProto { optional string name = 1; optional string package = 2; repeated DescriptorProto message_type = 4; }
   message DescriptorProto { optional string name = 1; repeated FieldDescriptorProto field = 2; repeated DescriptorProto nested_type = 3; optional MessageOptions options = 7; }
   message FieldDescriptorProto { optional string name = 1; optional int32 number = 3; optional int32 label = 4; optional int32 type = 5; optional string type_name = 6; }
   message MessageOptions { optional bool map_entry = 7; }`,
  { keepCase: true },
).root;
const FileDescriptorProto = descriptorRoot.lookupType("google.protobuf.FileDescriptorProto");

interface FieldDesc {
  name: string;
  number: number;
  label: number;
  type: number;
  type_name?: string;
}
interface MessageDesc {
  name: string;
  field: FieldDesc[];
  nested_type: MessageDesc[];
  options?: { map_entry?: boolean };
}
interface FileDesc {
  name: string;
  package: string;
  message_type: MessageDesc[];
}

const scalarTypes: Record<number, string> = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
};

function findDescriptors(binary: Buffer): Map<string, FileDesc> {
  const files = new Map<string, FileDesc>();
  const magic = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]);
  for (let at = binary.indexOf(magic); at >= 0; at = binary.indexOf(magic, at + 1)) {
    let raw: Buffer;
    try {
      raw = gunzipSync(binary.subarray(at, at + 400_000), { finishFlush: 2 });
    } catch {
      continue;
    }
    if (!raw.subarray(0, 200).toString("latin1").includes("generated.proto")) continue;
    try {
      const fd = FileDescriptorProto.toObject(FileDescriptorProto.decode(raw), { arrays: true }) as FileDesc;
      files.set(fd.name, fd);
    } catch {
      // Another gzip member that merely mentions a proto file.
    }
  }
  return files;
}

function descriptorMessages(files: Map<string, FileDesc>): Map<string, MessageDesc> {
  const out = new Map<string, MessageDesc>();
  const walk = (m: MessageDesc, prefix: string): void => {
    out.set(`${prefix}.${m.name}`, m);
    for (const n of m.nested_type) walk(n, `${prefix}.${m.name}`);
  };
  for (const f of files.values()) for (const m of f.message_type) walk(m, f.package);
  return out;
}

// --- Go reflection data ---
interface GoField {
  goName: string;
  json: string | undefined;
  omitempty: boolean;
  number: number | undefined;
  protoName: string | undefined;
  /** reflect.Kind of the field's type, and of its element for pointers and slices. */
  kind: number;
  elem: number;
}
const kinds = { bool: 1, int32: 5, int64: 6, map: 21, ptr: 22, slice: 23, string: 24, struct: 25 } as const;
const kindNames: Record<number, string> = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [v, k]));

interface Section {
  name: string;
  addr: number;
  offset: number;
  size: number;
}

function elfSections(b: Buffer): Section[] {
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) throw new Error("not a 64-bit ELF file");
  if (b.readUInt16LE(16) !== 2)
    throw new Error("not a non-PIE executable (ET_EXEC): pointers would need relocating");
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  const header = (i: number) => {
    const h = shoff + i * shentsize;
    return {
      nameAt: b.readUInt32LE(h),
      type: b.readUInt32LE(h + 4),
      addr: Number(b.readBigUInt64LE(h + 16)),
      offset: Number(b.readBigUInt64LE(h + 24)),
      size: Number(b.readBigUInt64LE(h + 32)),
    };
  };
  const strtab = header(b.readUInt16LE(0x3e));
  const out: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const { nameAt, type, addr, offset, size } = header(i);
    if (type !== 1) continue; // PROGBITS
    const start = strtab.offset + nameAt;
    const name = b.toString("latin1", start, b.indexOf(0, start));
    out.push({ name, addr, offset, size });
  }
  return out;
}

function readVarint(b: Buffer, at: number): [value: number, next: number] {
  let v = 0;
  let shift = 0;
  for (let i = at; i < at + 4; i++) {
    const byte = b[i] ?? 0;
    v |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [v, i + 1];
    shift += 7;
  }
  return [-1, at];
}

/** Every Go struct with protobuf tags, by "<package path>.<type name>". */
function goStructs(b: Buffer): Map<string, GoField[]> {
  const sections = elfSections(b);
  const toOffset = (addr: number): number | undefined => {
    const s = sections.find((x) => addr >= x.addr && addr < x.addr + x.size);
    return s === undefined ? undefined : addr - s.addr + s.offset;
  };
  // A Go name: flags byte (bit 1: has tag), varint length, bytes, then the tag likewise.
  const readName = (addr: number): { name: string; tag: string } | undefined => {
    const o = toOffset(addr);
    if (o === undefined) return undefined;
    const flags = b[o] ?? 0;
    const [len, at] = readVarint(b, o + 1);
    if (len <= 0 || len > 400) return undefined;
    const name = b.toString("latin1", at, at + len);
    if ((flags & 2) === 0) return { name, tag: "" };
    const [tlen, tat] = readVarint(b, at + len);
    if (tlen < 0) return undefined;
    return { name, tag: b.toString("latin1", tat, tat + tlen) };
  };
  const rodata = sections.find((s) => s.name === ".rodata");
  if (rodata === undefined) throw new Error("no .rodata section");
  // Type descriptors open .rodata (runtime.types); name offsets count from there.
  const typesBase = rodata.addr;
  const word = (o: number): number => (b.readUInt32LE(o + 4) === 0 ? b.readUInt32LE(o) : -1);
  const kindAt = (typeAddr: number): number => {
    const o = toOffset(typeAddr);
    return o === undefined ? -1 : (b[o + 23] ?? 0) & 0x1f;
  };
  // abi.StructType: abi.Type (48 bytes: kind at 23, tflag at 20, name offset at 40), the
  // package path (8), then the fields slice header {ptr, len, cap}; with tflag bit 0 an
  // abi.UncommonType follows whose first word is the package path's name offset.
  const out = new Map<string, GoField[]>();
  for (let o = rodata.offset + 56; o + 24 <= rodata.offset + rodata.size; o += 8) {
    const len = word(o + 8);
    if (len <= 0 || len > 300 || word(o + 16) !== len) continue;
    const t = o - 56;
    const tflag = b[t + 20] ?? 0;
    if (((b[t + 23] ?? 0) & 0x1f) !== kinds.struct || (tflag & 1) === 0) continue;
    const arrOff = word(o) < 0 ? undefined : toOffset(word(o));
    if (arrOff === undefined) continue;
    const typeName = readName(typesBase + b.readInt32LE(t + 40))?.name.slice(tflag & 2 ? 1 : 0);
    const pkgPath = readName(typesBase + b.readInt32LE(t + 80))?.name;
    if (typeName === undefined || pkgPath === undefined) continue;
    const fields: GoField[] = [];
    for (let i = 0; i < len; i++) {
      const e = arrOff + i * 24;
      const n = readName(word(e));
      if (n === undefined) break;
      const typ = word(e + 8);
      const kind = kindAt(typ);
      const to = toOffset(typ);
      const elem =
        (kind === kinds.ptr || kind === kinds.slice) && to !== undefined ? kindAt(word(to + 48)) : -1;
      const json = /json:"([^"]*)"/.exec(n.tag)?.[1];
      const pb = /protobuf:"[a-z0-9]+,(\d+),(?:(?:opt|rep|req),)?name=([A-Za-z0-9_]+)/.exec(n.tag);
      fields.push({
        goName: n.name,
        json: json?.split(",")[0],
        omitempty: json?.split(",").includes("omitempty") ?? false,
        number: pb?.[1] === undefined ? undefined : Number(pb[1]),
        protoName: pb?.[2],
        kind,
        elem,
      });
    }
    // "v1.ConfigMap" → "ConfigMap"
    const bare = typeName.slice(typeName.lastIndexOf(".") + 1);
    if (fields.length === len) out.set(`${pkgPath}.${bare}`, fields);
  }
  return out;
}

// --- the comparison ---
const special = new Set<string>(Object.values(specialMessages));

function fieldType(f: protobuf.Field): string {
  return f.resolvedType === null ? f.type : f.resolvedType.fullName.replace(/^\./, "");
}

function checkMessage(
  type: protobuf.Type,
  goPackage: string,
  desc: MessageDesc | undefined,
  all: Map<string, MessageDesc>,
  structs: Map<string, GoField[]>,
): string[] {
  const problems: string[] = [];
  const name = type.fullName.replace(/^\./, "");
  if (desc === undefined) return [`${name}: not in the binary's descriptors`];
  const ours = new Map(type.fieldsArray.map((f) => [f.id, f]));
  for (const d of desc.field) {
    const f = ours.get(d.number);
    if (f === undefined) {
      problems.push(`${name}: upstream field ${d.name} = ${d.number} missing here`);
      continue;
    }
    if (f.name !== d.name) problems.push(`${name}.${f.name}: upstream names field ${d.number} ${d.name}`);
    const upstreamType =
      d.type_name === undefined ? (scalarTypes[d.type] ?? `type ${d.type}`) : d.type_name.replace(/^\./, "");
    const entry = d.type_name === undefined ? undefined : all.get(d.type_name.replace(/^\./, ""));
    if (entry?.options?.map_entry === true) {
      const [k, v] = entry.field;
      const vt = v?.type_name === undefined ? scalarTypes[v?.type ?? 0] : v.type_name.replace(/^\./, "");
      if (
        !(f instanceof protobuf.MapField) ||
        f.keyType !== scalarTypes[k?.type ?? 0] ||
        fieldType(f) !== vt
      ) {
        problems.push(`${name}.${f.name}: upstream is map<${scalarTypes[k?.type ?? 0]}, ${vt}>`);
      }
    } else {
      if (f.map) problems.push(`${name}.${f.name}: upstream is not a map`);
      if (fieldType(f) !== upstreamType)
        problems.push(`${name}.${f.name}: type ${fieldType(f)}, upstream ${upstreamType}`);
      if (f.repeated !== (d.label === 3)) problems.push(`${name}.${f.name}: repeated differs from upstream`);
    }
  }
  for (const f of type.fieldsArray) {
    if (!desc.field.some((d) => d.number === f.id))
      problems.push(`${name}.${f.name} = ${f.id}: not upstream`);
  }
  // Upstream's declaration order is the Go struct order, which is the JSON order.
  const order = (xs: number[]): string => xs.join(",");
  if (order(type.fieldsArray.map((f) => f.id)) !== order(desc.field.map((d) => d.number))) {
    problems.push(`${name}: field order differs from upstream`);
  }
  // The envelope and the hand-serialized messages have no JSON struct tags to compare.
  if (special.has(name) || name.startsWith("k8s.io.apimachinery.pkg.runtime.")) return problems;

  const struct = structs.get(`${goPackage}.${type.name}`);
  if (struct === undefined) return [...problems, `${name}: no Go struct ${goPackage}.${type.name}`];
  return [...problems, ...goProblems(name, type, struct)];
}

function goProblems(name: string, type: protobuf.Type, struct: GoField[]): string[] {
  const problems: string[] = [];
  for (const f of type.fieldsArray) {
    const g = struct.find((x) => x.number === f.id);
    if (g === undefined) {
      problems.push(`${name}.${f.name}: no Go field`);
      continue;
    }
    const opts = f.options ?? {};
    const jsonName = typeof opts["(json)"] === "string" ? opts["(json)"] : f.name;
    const ptr = opts["(ptr)"] === true;
    const value = opts["(value)"] === true;
    const keep = opts["(keep)"] === true;
    const where = `${name}.${f.name} (Go ${g.goName}, ${kindNames[g.kind] ?? g.kind}${g.elem >= 0 ? ` of ${kindNames[g.elem] ?? g.elem}` : ""}, json:"${g.json ?? ""}${g.omitempty ? ",omitempty" : ""}")`;
    if (g.json === "-") {
      if (f.resolvedType === null && f.type === "bytes") continue; // FieldsV1.Raw
    }
    if (g.json !== jsonName) problems.push(`${where}: JSON name here is ${jsonName}`);
    if (g.omitempty === keep) problems.push(`${where}: (keep) here is ${keep}`);
    const isMessage = f.resolvedType !== null && !f.map;
    if (f.map || f.repeated) {
      if (ptr || value) problems.push(`${where}: (ptr)/(value) on a list or map`);
      if (g.kind !== kinds.slice && g.kind !== kinds.map)
        problems.push(`${where}: Go field is not a slice or map`);
    } else if (isMessage) {
      const goValue = g.kind === kinds.struct;
      if (goValue !== value) problems.push(`${where}: (value) here is ${value}`);
      if (ptr) problems.push(`${where}: (ptr) on a message`);
    } else {
      const goPtr = g.kind === kinds.ptr;
      if (goPtr !== ptr) problems.push(`${where}: (ptr) here is ${ptr}`);
      if (value) problems.push(`${where}: (value) on a scalar`);
    }
  }
  return problems;
}

function main(): void {
  const path = process.argv[2] ?? "/usr/bin/kubectl";
  const binary = readFileSync(path);
  const files = findDescriptors(binary);
  const all = descriptorMessages(files);
  const structs = goStructs(binary);
  let failed = 0;
  for (const file of protoFiles) {
    if (!files.has(file.upstream)) {
      process.stdout.write(`MISSING ${file.upstream} is not in ${path}\n`);
      failed++;
    }
  }
  const types: protobuf.Type[] = [];
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const o of ns.nestedArray) {
      if (o instanceof protobuf.Type) types.push(o);
      if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) collect(o);
    }
  };
  collect(kubernetesRoot);
  for (const t of types) {
    const name = t.fullName.replace(/^\./, "");
    const file = protoFiles.find((f) => name.startsWith(`${dirname(f.upstream).replaceAll("/", ".")}.`));
    const goPackage = file === undefined ? "" : dirname(file.upstream);
    const problems = checkMessage(t, goPackage, all.get(name), all, structs);
    process.stdout.write(
      problems.length === 0
        ? `ok      ${name} (${t.fieldsArray.length} fields)\n`
        : problems.map((p) => `DIFFERS ${p}\n`).join(""),
    );
    if (problems.length > 0) failed++;
  }
  process.stdout.write(`${types.length - failed} passed, ${failed} failed\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main();
