// Admission: the plugin contract and chain (interface.ts); built-in plugins, admission
// webhooks (webhook/) and ValidatingAdmissionPolicy in CEL (policy/) live beside it.

export * from "./interface.ts";
