// Strategic-merge-patch metadata per built-in kind, read from the built-in OpenAPI
// schemas once and shared by every tenant.

import type { ResourceDef } from "../registry/resources.ts";
import { builtinSchemas } from "./openapi/openapi.ts";
import { patchMetaFromOpenAPI, unknownPatchMeta, type PatchMeta } from "./patch/index.ts";

const cache = new Map<string, PatchMeta>();

export function patchMetaFor(def: ResourceDef): PatchMeta {
  const name = def.schemaName;
  if (name === undefined || builtinSchemas[name] === undefined) return unknownPatchMeta;
  let meta = cache.get(name);
  if (meta === undefined) {
    meta = patchMetaFromOpenAPI(builtinSchemas, name);
    cache.set(name, meta);
  }
  return meta;
}
