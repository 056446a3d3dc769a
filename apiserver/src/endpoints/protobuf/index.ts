// Protobuf request bodies: the Kubernetes protobuf schema of the kinds kubectl (and other Go
// clients) send as `application/vnd.kubernetes.protobuf`, and their decoding into the JSON
// object the same request would have carried. capture-fixtures.ts and check-descriptors.ts
// are run by hand: one records real kubectl bodies into fixtures/, the other proves the
// schema against a kubectl binary.

export { decodeProtobufBody, protobufContentType, protobufMagic, type DecodedBody } from "./decode.ts";
