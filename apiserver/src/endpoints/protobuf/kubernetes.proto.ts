// The protobuf schema of the kinds Multiplane decodes from `application/vnd.kubernetes.protobuf`
// request bodies: the needed messages of Kubernetes' go-to-protobuf `generated.proto` files
// (v1.32), as .proto text embedded here so a bundled server reads no file at run time.
//
// Field names and numbers are upstream's, in upstream's declaration order (which is the Go
// struct order, so also the order Go's JSON encoder writes). `check-descriptors.ts` proves
// every number and type against the descriptors compiled into kubectl 1.32, and every
// annotation below against the Go struct tags compiled into it.
//
// The wire says nothing about Go's JSON shape, which the decoder must reproduce, so each
// field may carry these options (read by decode.ts):
//   (ptr)   a pointer scalar (`*bool`, `*int64`, `*string`): sent on the wire only when
//           set, so JSON carries it exactly when the wire does, zero or not. Without it a
//           scalar is a Go value, which gogo-protobuf always sends, zero or not.
//   (value) a Go struct held by value (`metadata`, `spec`, a `metav1.Time`): Go's JSON
//           encoder writes it even when empty. Without it a message field is a pointer.
//   (keep)  the JSON tag has no `omitempty`: zero values are written (nil slices, maps
//           and pointers as null). Without it empty values are left out.
//   (json)  the JSON name, where it differs from the protobuf name.
// Messages that Go serializes by hand (Time, MicroTime, Quantity, IntOrString, FieldsV1,
// ExtraValue) are converted by name in decode.ts.

import protobuf from "protobufjs";

/** One upstream file: its path in the Kubernetes source and its text here. */
interface ProtoFile {
  upstream: string;
  text: string;
}

export const protoFiles: readonly ProtoFile[] = [
  {
    upstream: "k8s.io/apimachinery/pkg/runtime/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.apimachinery.pkg.runtime;

// k8s.io/apimachinery/pkg/runtime/generated.proto
message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}

// k8s.io/apimachinery/pkg/runtime/generated.proto: the envelope of every protobuf body,
// after the 4-byte magic "k8s\\0".
message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}
`,
  },
  {
    upstream: "k8s.io/apimachinery/pkg/api/resource/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.apimachinery.pkg.api.resource;

// k8s.io/apimachinery/pkg/api/resource/generated.proto: JSON is the string ("" is "0").
message Quantity {
  optional string string = 1;
}
`,
  },
  {
    upstream: "k8s.io/apimachinery/pkg/util/intstr/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.apimachinery.pkg.util.intstr;

// k8s.io/apimachinery/pkg/util/intstr/generated.proto: JSON is intVal when type is 0, else strVal.
message IntOrString {
  optional int64 type = 1;
  optional int32 intVal = 2;
  optional string strVal = 3;
}
`,
  },
  {
    upstream: "k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message Condition {
  optional string type = 1 [(keep) = true];
  optional string status = 2 [(keep) = true];
  optional int64 observedGeneration = 3;
  optional Time lastTransitionTime = 4 [(value) = true, (keep) = true];
  optional string reason = 5 [(keep) = true];
  optional string message = 6 [(keep) = true];
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message DeleteOptions {
  optional int64 gracePeriodSeconds = 1 [(ptr) = true];
  optional Preconditions preconditions = 2;
  optional bool orphanDependents = 3 [(ptr) = true];
  optional string propagationPolicy = 4 [(ptr) = true];
  repeated string dryRun = 5;
  optional bool ignoreStoreReadErrorWithClusterBreakingPotential = 6 [(ptr) = true];
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message FieldSelectorRequirement {
  optional string key = 1 [(keep) = true];
  optional string operator = 2 [(keep) = true];
  repeated string values = 3;
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto: Raw holds JSON, which is the field's JSON.
message FieldsV1 {
  optional bytes Raw = 1;
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message LabelSelector {
  map<string, string> matchLabels = 1;
  repeated LabelSelectorRequirement matchExpressions = 2;
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message LabelSelectorRequirement {
  optional string key = 1 [(keep) = true];
  optional string operator = 2 [(keep) = true];
  repeated string values = 3;
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message ManagedFieldsEntry {
  optional string manager = 1;
  optional string operation = 2;
  optional string apiVersion = 3;
  optional Time time = 4;
  optional string fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7;
  optional string subresource = 8;
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto: JSON is RFC 3339 with microseconds, UTC.
message MicroTime {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string selfLink = 4;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8 [(value) = true];
  optional Time deletionTimestamp = 9;
  optional int64 deletionGracePeriodSeconds = 10 [(ptr) = true];
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message OwnerReference {
  optional string apiVersion = 5 [(keep) = true];
  optional string kind = 1 [(keep) = true];
  optional string name = 3 [(keep) = true];
  optional string uid = 4 [(keep) = true];
  optional bool controller = 6 [(ptr) = true];
  optional bool blockOwnerDeletion = 7 [(ptr) = true];
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto
message Preconditions {
  optional string uid = 1 [(ptr) = true];
  optional string resourceVersion = 2 [(ptr) = true];
}

// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto: JSON is RFC 3339 in whole seconds, UTC.
message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}
`,
  },
  {
    upstream: "k8s.io/api/core/v1/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.api.core.v1;

// k8s.io/api/core/v1/generated.proto
message ClientIPConfig {
  optional int32 timeoutSeconds = 1 [(ptr) = true];
}

// k8s.io/api/core/v1/generated.proto
message ConfigMap {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional bool immutable = 4 [(ptr) = true];
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
}

// k8s.io/api/core/v1/generated.proto
message Event {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true, (keep) = true];
  optional ObjectReference involvedObject = 2 [(value) = true, (keep) = true];
  optional string reason = 3;
  optional string message = 4;
  optional EventSource source = 5 [(value) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time firstTimestamp = 6 [(value) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTimestamp = 7 [(value) = true];
  optional int32 count = 8;
  optional string type = 9;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime eventTime = 10 [(value) = true];
  optional EventSeries series = 11;
  optional string action = 12;
  optional ObjectReference related = 13;
  optional string reportingComponent = 14 [(keep) = true];
  optional string reportingInstance = 15 [(keep) = true];
}

// k8s.io/api/core/v1/generated.proto
message EventSeries {
  optional int32 count = 1;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime lastObservedTime = 2 [(value) = true];
}

// k8s.io/api/core/v1/generated.proto
message EventSource {
  optional string component = 1;
  optional string host = 2;
}

// k8s.io/api/core/v1/generated.proto
message LimitRange {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional LimitRangeSpec spec = 2 [(value) = true];
}

// k8s.io/api/core/v1/generated.proto
message LimitRangeItem {
  optional string type = 1 [(keep) = true];
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> max = 2;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> min = 3;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> default = 4;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> defaultRequest = 5;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> maxLimitRequestRatio = 6;
}

// k8s.io/api/core/v1/generated.proto
message LimitRangeSpec {
  repeated LimitRangeItem limits = 1 [(keep) = true];
}

// k8s.io/api/core/v1/generated.proto
message LoadBalancerIngress {
  optional string ip = 1;
  optional string hostname = 2;
  optional string ipMode = 3 [(ptr) = true];
  repeated PortStatus ports = 4;
}

// k8s.io/api/core/v1/generated.proto
message LoadBalancerStatus {
  repeated LoadBalancerIngress ingress = 1;
}

// k8s.io/api/core/v1/generated.proto
message LocalObjectReference {
  optional string name = 1;
}

// k8s.io/api/core/v1/generated.proto
message Namespace {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional NamespaceSpec spec = 2 [(value) = true];
  optional NamespaceStatus status = 3 [(value) = true];
}

// k8s.io/api/core/v1/generated.proto
message NamespaceCondition {
  optional string type = 1 [(keep) = true];
  optional string status = 2 [(keep) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4 [(value) = true];
  optional string reason = 5;
  optional string message = 6;
}

// k8s.io/api/core/v1/generated.proto
message NamespaceSpec {
  repeated string finalizers = 1;
}

// k8s.io/api/core/v1/generated.proto
message NamespaceStatus {
  optional string phase = 1;
  repeated NamespaceCondition conditions = 2;
}

// k8s.io/api/core/v1/generated.proto
message ObjectReference {
  optional string kind = 1;
  optional string namespace = 2;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional string resourceVersion = 6;
  optional string fieldPath = 7;
}

// k8s.io/api/core/v1/generated.proto
message PortStatus {
  optional int32 port = 1 [(keep) = true];
  optional string protocol = 2 [(keep) = true];
  optional string error = 3 [(ptr) = true];
}

// k8s.io/api/core/v1/generated.proto
message ResourceQuota {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional ResourceQuotaSpec spec = 2 [(value) = true];
  optional ResourceQuotaStatus status = 3 [(value) = true];
}

// k8s.io/api/core/v1/generated.proto
message ResourceQuotaSpec {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> hard = 1;
  repeated string scopes = 2;
  optional ScopeSelector scopeSelector = 3;
}

// k8s.io/api/core/v1/generated.proto
message ResourceQuotaStatus {
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> hard = 1;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> used = 2;
}

// k8s.io/api/core/v1/generated.proto
message ScopeSelector {
  repeated ScopedResourceSelectorRequirement matchExpressions = 1;
}

// k8s.io/api/core/v1/generated.proto
message ScopedResourceSelectorRequirement {
  optional string scopeName = 1 [(keep) = true];
  optional string operator = 2 [(keep) = true];
  repeated string values = 3;
}

// k8s.io/api/core/v1/generated.proto
message Secret {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional bool immutable = 5 [(ptr) = true];
  map<string, bytes> data = 2;
  map<string, string> stringData = 4;
  optional string type = 3;
}

// k8s.io/api/core/v1/generated.proto
message Service {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional ServiceSpec spec = 2 [(value) = true];
  optional ServiceStatus status = 3 [(value) = true];
}

// k8s.io/api/core/v1/generated.proto
message ServiceAccount {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  repeated ObjectReference secrets = 2;
  repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4 [(ptr) = true];
}

// k8s.io/api/core/v1/generated.proto
message ServicePort {
  optional string name = 1;
  optional string protocol = 2;
  optional string appProtocol = 6 [(ptr) = true];
  optional int32 port = 3 [(keep) = true];
  optional k8s.io.apimachinery.pkg.util.intstr.IntOrString targetPort = 4 [(value) = true];
  optional int32 nodePort = 5;
}

// k8s.io/api/core/v1/generated.proto
message ServiceSpec {
  repeated ServicePort ports = 1;
  map<string, string> selector = 2;
  optional string clusterIP = 3;
  repeated string clusterIPs = 18;
  optional string type = 4;
  repeated string externalIPs = 5;
  optional string sessionAffinity = 7;
  optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9;
  optional string externalName = 10;
  optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12;
  optional bool publishNotReadyAddresses = 13;
  optional SessionAffinityConfig sessionAffinityConfig = 14;
  repeated string ipFamilies = 19;
  optional string ipFamilyPolicy = 17 [(ptr) = true];
  optional bool allocateLoadBalancerNodePorts = 20 [(ptr) = true];
  optional string loadBalancerClass = 21 [(ptr) = true];
  optional string internalTrafficPolicy = 22 [(ptr) = true];
  optional string trafficDistribution = 23 [(ptr) = true];
}

// k8s.io/api/core/v1/generated.proto
message ServiceStatus {
  optional LoadBalancerStatus loadBalancer = 1 [(value) = true];
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.Condition conditions = 2;
}

// k8s.io/api/core/v1/generated.proto
message SessionAffinityConfig {
  optional ClientIPConfig clientIP = 1;
}
`,
  },
  {
    upstream: "k8s.io/api/authorization/v1/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.api.authorization.v1;

// k8s.io/api/authorization/v1/generated.proto: JSON is the list of items (null when empty).
message ExtraValue {
  repeated string items = 1;
}

// k8s.io/api/authorization/v1/generated.proto
message FieldSelectorAttributes {
  optional string rawSelector = 1;
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement requirements = 2;
}

// k8s.io/api/authorization/v1/generated.proto
message LabelSelectorAttributes {
  optional string rawSelector = 1;
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement requirements = 2;
}

// k8s.io/api/authorization/v1/generated.proto
message LocalSubjectAccessReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional SubjectAccessReviewSpec spec = 2 [(value) = true, (keep) = true];
  optional SubjectAccessReviewStatus status = 3 [(value) = true];
}

// k8s.io/api/authorization/v1/generated.proto
message NonResourceAttributes {
  optional string path = 1;
  optional string verb = 2;
}

// k8s.io/api/authorization/v1/generated.proto
message NonResourceRule {
  repeated string verbs = 1 [(keep) = true];
  repeated string nonResourceURLs = 2;
}

// k8s.io/api/authorization/v1/generated.proto
message ResourceAttributes {
  optional string namespace = 1;
  optional string verb = 2;
  optional string group = 3;
  optional string version = 4;
  optional string resource = 5;
  optional string subresource = 6;
  optional string name = 7;
  optional FieldSelectorAttributes fieldSelector = 8;
  optional LabelSelectorAttributes labelSelector = 9;
}

// k8s.io/api/authorization/v1/generated.proto
message ResourceRule {
  repeated string verbs = 1 [(keep) = true];
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
}

// k8s.io/api/authorization/v1/generated.proto
message SelfSubjectAccessReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional SelfSubjectAccessReviewSpec spec = 2 [(value) = true, (keep) = true];
  optional SubjectAccessReviewStatus status = 3 [(value) = true];
}

// k8s.io/api/authorization/v1/generated.proto
message SelfSubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1;
  optional NonResourceAttributes nonResourceAttributes = 2;
}

// k8s.io/api/authorization/v1/generated.proto
message SelfSubjectRulesReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional SelfSubjectRulesReviewSpec spec = 2 [(value) = true, (keep) = true];
  optional SubjectRulesReviewStatus status = 3 [(value) = true];
}

// k8s.io/api/authorization/v1/generated.proto
message SelfSubjectRulesReviewSpec {
  optional string namespace = 1;
}

// k8s.io/api/authorization/v1/generated.proto
message SubjectAccessReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional SubjectAccessReviewSpec spec = 2 [(value) = true, (keep) = true];
  optional SubjectAccessReviewStatus status = 3 [(value) = true];
}

// k8s.io/api/authorization/v1/generated.proto
message SubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1;
  optional NonResourceAttributes nonResourceAttributes = 2;
  optional string user = 3;
  repeated string groups = 4;
  map<string, ExtraValue> extra = 5;
  optional string uid = 6;
}

// k8s.io/api/authorization/v1/generated.proto
message SubjectAccessReviewStatus {
  optional bool allowed = 1 [(keep) = true];
  optional bool denied = 4;
  optional string reason = 2;
  optional string evaluationError = 3;
}

// k8s.io/api/authorization/v1/generated.proto
message SubjectRulesReviewStatus {
  repeated ResourceRule resourceRules = 1 [(keep) = true];
  repeated NonResourceRule nonResourceRules = 2 [(keep) = true];
  optional bool incomplete = 3 [(keep) = true];
  optional string evaluationError = 4;
}
`,
  },
  {
    upstream: "k8s.io/api/authentication/v1/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.api.authentication.v1;

// k8s.io/api/authentication/v1/generated.proto: upstream names the uid field "uID".
message BoundObjectReference {
  optional string kind = 1;
  optional string apiVersion = 2;
  optional string name = 3;
  optional string uID = 4 [(json) = "uid"];
}

// k8s.io/api/authentication/v1/generated.proto: JSON is the list of items (null when empty).
message ExtraValue {
  repeated string items = 1;
}

// k8s.io/api/authentication/v1/generated.proto
message SelfSubjectReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional SelfSubjectReviewStatus status = 2 [(value) = true];
}

// k8s.io/api/authentication/v1/generated.proto
message SelfSubjectReviewStatus {
  optional UserInfo userInfo = 1 [(value) = true];
}

// k8s.io/api/authentication/v1/generated.proto
message TokenRequest {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional TokenRequestSpec spec = 2 [(value) = true, (keep) = true];
  optional TokenRequestStatus status = 3 [(value) = true];
}

// k8s.io/api/authentication/v1/generated.proto
message TokenRequestSpec {
  repeated string audiences = 1 [(keep) = true];
  optional int64 expirationSeconds = 4 [(ptr) = true, (keep) = true];
  optional BoundObjectReference boundObjectRef = 3 [(keep) = true];
}

// k8s.io/api/authentication/v1/generated.proto
message TokenRequestStatus {
  optional string token = 1 [(keep) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time expirationTimestamp = 2 [(value) = true, (keep) = true];
}

// k8s.io/api/authentication/v1/generated.proto
message TokenReview {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional TokenReviewSpec spec = 2 [(value) = true, (keep) = true];
  optional TokenReviewStatus status = 3 [(value) = true];
}

// k8s.io/api/authentication/v1/generated.proto
message TokenReviewSpec {
  optional string token = 1;
  repeated string audiences = 2;
}

// k8s.io/api/authentication/v1/generated.proto
message TokenReviewStatus {
  optional bool authenticated = 1;
  optional UserInfo user = 2 [(value) = true];
  repeated string audiences = 4;
  optional string error = 3;
}

// k8s.io/api/authentication/v1/generated.proto
message UserInfo {
  optional string username = 1;
  optional string uid = 2;
  repeated string groups = 3;
  map<string, ExtraValue> extra = 4;
}
`,
  },
  {
    upstream: "k8s.io/api/rbac/v1/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.api.rbac.v1;

// k8s.io/api/rbac/v1/generated.proto
message AggregationRule {
  repeated k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector clusterRoleSelectors = 1;
}

// k8s.io/api/rbac/v1/generated.proto
message ClusterRole {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  repeated PolicyRule rules = 2 [(keep) = true];
  optional AggregationRule aggregationRule = 3;
}

// k8s.io/api/rbac/v1/generated.proto
message ClusterRoleBinding {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3 [(value) = true, (keep) = true];
}

// k8s.io/api/rbac/v1/generated.proto
message PolicyRule {
  repeated string verbs = 1 [(keep) = true];
  repeated string apiGroups = 2;
  repeated string resources = 3;
  repeated string resourceNames = 4;
  repeated string nonResourceURLs = 5;
}

// k8s.io/api/rbac/v1/generated.proto
message Role {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  repeated PolicyRule rules = 2 [(keep) = true];
}

// k8s.io/api/rbac/v1/generated.proto
message RoleBinding {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  repeated Subject subjects = 2;
  optional RoleRef roleRef = 3 [(value) = true, (keep) = true];
}

// k8s.io/api/rbac/v1/generated.proto
message RoleRef {
  optional string apiGroup = 1 [(keep) = true];
  optional string kind = 2 [(keep) = true];
  optional string name = 3 [(keep) = true];
}

// k8s.io/api/rbac/v1/generated.proto
message Subject {
  optional string kind = 1 [(keep) = true];
  optional string apiGroup = 2;
  optional string name = 3 [(keep) = true];
  optional string namespace = 4;
}
`,
  },
  {
    upstream: "k8s.io/api/coordination/v1/generated.proto",
    text: `
syntax = "proto2";
package k8s.io.api.coordination.v1;

// k8s.io/api/coordination/v1/generated.proto
message Lease {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1 [(value) = true];
  optional LeaseSpec spec = 2 [(value) = true];
}

// k8s.io/api/coordination/v1/generated.proto
message LeaseSpec {
  optional string holderIdentity = 1 [(ptr) = true];
  optional int32 leaseDurationSeconds = 2 [(ptr) = true];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime acquireTime = 3;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime renewTime = 4;
  optional int32 leaseTransitions = 5 [(ptr) = true];
  optional string strategy = 6 [(ptr) = true];
  optional string preferredHolder = 7 [(ptr) = true];
}
`,
  },
];

/** Every message above, resolved; built once at module load. */
export const kubernetesRoot: protobuf.Root = (() => {
  const root = new protobuf.Root();
  for (const file of protoFiles) protobuf.parse(file.text, root, { keepCase: true });
  root.resolveAll();
  return root;
})();

const meta = "k8s.io.apimachinery.pkg.apis.meta.v1";
const core = "k8s.io.api.core.v1";
const authz = "k8s.io.api.authorization.v1";
const authn = "k8s.io.api.authentication.v1";
const rbac = "k8s.io.api.rbac.v1";
const coordination = "k8s.io.api.coordination.v1";

/** The decodable top-level kinds: `apiVersion` → `kind` → message full name. */
export const kindMessages: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  v1: {
    ConfigMap: `${core}.ConfigMap`,
    Secret: `${core}.Secret`,
    Namespace: `${core}.Namespace`,
    ServiceAccount: `${core}.ServiceAccount`,
    Service: `${core}.Service`,
    ResourceQuota: `${core}.ResourceQuota`,
    LimitRange: `${core}.LimitRange`,
    Event: `${core}.Event`,
  },
  "authorization.k8s.io/v1": {
    SelfSubjectAccessReview: `${authz}.SelfSubjectAccessReview`,
    SubjectAccessReview: `${authz}.SubjectAccessReview`,
    LocalSubjectAccessReview: `${authz}.LocalSubjectAccessReview`,
    SelfSubjectRulesReview: `${authz}.SelfSubjectRulesReview`,
  },
  "authentication.k8s.io/v1": {
    SelfSubjectReview: `${authn}.SelfSubjectReview`,
    TokenReview: `${authn}.TokenReview`,
    TokenRequest: `${authn}.TokenRequest`,
  },
  "rbac.authorization.k8s.io/v1": {
    Role: `${rbac}.Role`,
    ClusterRole: `${rbac}.ClusterRole`,
    RoleBinding: `${rbac}.RoleBinding`,
    ClusterRoleBinding: `${rbac}.ClusterRoleBinding`,
  },
  "coordination.k8s.io/v1": {
    Lease: `${coordination}.Lease`,
  },
};

/**
 * Kinds that apimachinery registers in every group version (metav1.AddToGroupVersion), so a
 * client sends them with the apiVersion of whatever it is deleting.
 */
export const anyVersionKindMessages: Readonly<Record<string, string>> = {
  DeleteOptions: `${meta}.DeleteOptions`,
};

/** Full names of the messages Go serializes to JSON by hand; decode.ts converts each. */
export const specialMessages = {
  time: `${meta}.Time`,
  microTime: `${meta}.MicroTime`,
  fieldsV1: `${meta}.FieldsV1`,
  quantity: "k8s.io.apimachinery.pkg.api.resource.Quantity",
  intOrString: "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
  authorizationExtraValue: `${authz}.ExtraValue`,
  authenticationExtraValue: `${authn}.ExtraValue`,
} as const;

export const unknownMessage = "k8s.io.apimachinery.pkg.runtime.Unknown";
