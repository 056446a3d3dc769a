// Proves openapi-v2.proto.ts against a real kubectl binary:
//
//   node --import tsx apiserver/src/endpoints/openapi/check-openapi-v2-descriptor.ts [/path/to/kubectl]
//
// gnostic-models' generated Go code embeds its FileDescriptorProto (uncompressed) in every
// binary that links it; kubectl does. This finds it by its file name, and compares every
// message and field (name, number, label, type, oneof) with the embedded schema. Prints each
// difference and exits 1 if there is one beyond the two deliberate omissions (Any.value, the
// VendorExtension message). Run by hand when the schema changes; it needs the binary, so the
// unit tests do not run it.

import { readFileSync } from "node:fs";
import protobuf from "protobufjs";
import { openAPIV2Root } from "./openapi-v2.proto.ts";

// descriptor.proto, the part this needs (google/protobuf/descriptor.proto).
const descriptorRoot = protobuf.parse(
  `syntax = "proto2";
   package google.protobuf;
   message FileDescriptorProto { optional string name = 1; optional string package = 2; repeated DescriptorProto message_type = 4; optional string syntax = 12; }
   message DescriptorProto { optional string name = 1; repeated FieldDescriptorProto field = 2; repeated OneofDescriptorProto oneof_decl = 8; }
   message OneofDescriptorProto { optional string name = 1; }
   message FieldDescriptorProto { optional string name = 1; optional int32 number = 3; optional int32 label = 4; optional int32 type = 5; optional string type_name = 6; optional int32 oneof_index = 9; }`,
  { keepCase: true },
).root;
const FileDescriptorProto = descriptorRoot.lookupType("google.protobuf.FileDescriptorProto");

interface FieldDesc {
  name: string;
  number: number;
  label: number;
  type: number;
  type_name?: string;
  oneof_index?: number;
}
interface MessageDesc {
  name: string;
  field?: FieldDesc[];
  oneof_decl?: { name: string }[];
}
interface FileDesc {
  name: string;
  package: string;
  syntax: string;
  message_type: MessageDesc[];
}

const scalarTypes: Readonly<Record<number, string>> = { 1: "double", 3: "int64", 8: "bool", 9: "string" };
const LABEL_REPEATED = 3;
const TYPE_MESSAGE = 11;
/** Left out of openapi-v2.proto.ts on purpose (see its header). */
const omitted = new Set(["Any.value", "VendorExtension"]);

const fileName = "openapiv2/OpenAPIv2.proto";

/** The FileDescriptorProto whose first field (name) is `fileName`, cut at its last valid field. */
function findDescriptor(binary: Buffer): FileDesc {
  const marker = Buffer.concat([Buffer.from([0x0a, fileName.length]), Buffer.from(fileName)]);
  const start = binary.indexOf(marker);
  if (start < 0) throw new Error(`no descriptor of ${fileName} in the binary`);
  // The raw descriptor has no length prefix: walk its top-level fields until one cannot be a
  // FileDescriptorProto field (numbers 1..14, varint or length-delimited).
  const reader = protobuf.Reader.create(binary.subarray(start, start + 1_000_000));
  let end = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const [field, wire] = [tag >>> 3, tag & 7];
    if (field < 1 || field > 14 || (wire !== 0 && wire !== 2)) break;
    if (wire === 0) reader.uint64();
    else reader.skip(reader.uint32());
    end = reader.pos;
  }
  return FileDescriptorProto.toObject(FileDescriptorProto.decode(binary.subarray(start, start + end)), {
    arrays: true,
  }) as FileDesc;
}

function check(file: FileDesc): string[] {
  const problems: string[] = [];
  if (file.package !== "openapi.v2" || file.syntax !== "proto3") {
    problems.push(`package ${file.package}, syntax ${file.syntax}`);
  }
  const seen = new Set<string>();
  for (const message of file.message_type) {
    seen.add(message.name);
    const ours = openAPIV2Root.lookup(`openapi.v2.${message.name}`);
    if (!(ours instanceof protobuf.Type)) {
      if (!omitted.has(message.name)) problems.push(`${message.name}: missing`);
      continue;
    }
    for (const f of message.field ?? []) {
      const where = `${message.name}.${f.name}`;
      const field = ours.fields[f.name];
      if (field === undefined) {
        if (!omitted.has(where)) problems.push(`${where}: missing`);
        continue;
      }
      const type =
        f.type === TYPE_MESSAGE ? (f.type_name ?? "").replace(/^\.openapi\.v2\./, "") : scalarTypes[f.type];
      const oneof = f.oneof_index === undefined ? undefined : message.oneof_decl?.[f.oneof_index]?.name;
      const theirs = `${f.number} ${f.label === LABEL_REPEATED ? "repeated " : ""}${type}${oneof ? ` in ${oneof}` : ""}`;
      const mine = `${field.id} ${field.repeated ? "repeated " : ""}${field.type}${field.partOf ? ` in ${field.partOf.name}` : ""}`;
      if (theirs !== mine) problems.push(`${where}: kubectl has ${theirs}, ours is ${mine}`);
    }
    for (const name of Object.keys(ours.fields)) {
      if (!(message.field ?? []).some((f) => f.name === name))
        problems.push(`${message.name}.${name}: not upstream`);
    }
  }
  const namespace = openAPIV2Root.lookup("openapi.v2");
  for (const nested of namespace instanceof protobuf.Namespace ? namespace.nestedArray : []) {
    if (!seen.has(nested.name)) problems.push(`${nested.name}: not upstream`);
  }
  return problems;
}

const binaryPath = process.argv[2] ?? "/usr/bin/kubectl";
const descriptor = findDescriptor(readFileSync(binaryPath));
const problems = check(descriptor);
for (const p of problems) console.log(p);
console.log(
  `${descriptor.name}: ${descriptor.message_type.length} messages in ${binaryPath}, ${problems.length} difference(s)`,
);
process.exitCode = problems.length === 0 ? 0 : 1;
