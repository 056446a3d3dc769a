// Label and field selectors: the `labelSelector` and `fieldSelector` grammars of
// k8s.io/apimachinery (labels.Parse, fields.ParseSelector), matching, canonical strings,
// selectors from metav1.LabelSelector objects and their validation, with kube-apiserver
// v1.32's error messages. Helpers reproduce Go's formatting where those messages need it.

export * from "./label-selector.ts";
export * from "./field-selector.ts";
