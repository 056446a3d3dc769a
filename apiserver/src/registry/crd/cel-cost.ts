// The static cost checks of x-kubernetes-validations at CRD create/update (apiextensions'
// StaticEstimatedCostLimit, 10,000,000 per rule, and StaticEstimatedCRDCostLimit,
// 100,000,000 for the whole schema), reduced to what can be decided without cel-go's cost
// estimator: a lower bound of its estimate. A rule costs at least one per iteration of its
// comprehensions (all, exists, exists_one, map, filter) over lists and maps of the schema,
// times the times it runs (the elements of the lists and maps above it); a list or map without
// maxItems/maxProperties holds at least as many elements as fit a 3 MiB request at 6 bytes
// each (kube's own bound allows more). A rule or a schema is refused only when that lower
// bound passes 100× the limit, where kube's message reads "more than 100x" whatever its exact
// estimate. Rules kube refuses with a smaller factor are accepted here (and held by the
// runtime cost limits instead); which rules the schema-total error names as the most
// expensive follows these lower bounds, not cel-go's estimates.

import type { ASTNode } from "@marcbachmann/cel-js";
import { newKubernetesEnvironment } from "../../cel/index.ts";
import { additionalSchema, itemsSchema, propertySchema, type JSONSchemaProps } from "./schema.ts";

/** Kube's per-rule estimated cost limit (apiextensions validation.StaticEstimatedCostLimit). */
export const staticEstimatedCostLimit = 10_000_000;

/** Kube's estimated cost limit of all rules of a schema (StaticEstimatedCRDCostLimit). */
export const staticEstimatedCRDCostLimit = 100_000_000;

const fixHint =
  "(try simplifying the rule(s), or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)";

/** A lower bound of the elements kube assumes for an unbounded list or map (3 MiB request). */
const unboundedElements = Math.floor((3 * 1024 * 1024 - 2) / 6);

const comprehensions = new Set(["all", "exists", "exists_one", "map", "filter"]);

const parser = newKubernetesEnvironment();
parser.registerVariable("self", "dyn");
parser.registerVariable("oldSelf", "dyn");

type Scope = ReadonlyMap<string, JSONSchemaProps | undefined>;

/** The schema of the value an expression denotes, when it is `self`, a loop variable or a field of one. */
function schemaOf(node: ASTNode, scope: Scope): JSONSchemaProps | undefined {
  if (node.op === "id") return scope.get(node.args);
  if (node.op === ".") return propertySchema(schemaOf(node.args[0], scope), node.args[1]);
  return undefined;
}

/** The most elements kube assumes the list or map at `s` holds, at least (0: not a list or map). */
export function maxElements(s: JSONSchemaProps | undefined): number {
  if (s === undefined) return 0;
  if (s.type === "array") return s.maxItems ?? unboundedElements;
  if (s.type === "object" && s.properties === undefined && additionalSchema(s) !== undefined)
    return s.maxProperties ?? unboundedElements;
  return 0;
}

function children(node: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(visit);
    else if (x !== null && typeof x === "object" && "op" in x) out.push(x as ASTNode);
  };
  visit(node.args);
  return out;
}

function lowerBound(node: ASTNode, scope: Scope): number {
  if (node.op === "rcall") {
    const [name, receiver, args] = node.args;
    const iterVar = args[0];
    if (comprehensions.has(name) && iterVar?.op === "id") {
      const range = schemaOf(receiver, scope);
      const element = range?.type === "array" ? itemsSchema(range) : undefined;
      const inner = new Map(scope).set(iterVar.args, element);
      const body = args.slice(1).reduce((sum, a) => sum + lowerBound(a, inner), 0);
      return lowerBound(receiver, scope) + maxElements(range) * (1 + body);
    }
  }
  return children(node).reduce((sum, c) => sum + lowerBound(c, scope), 0);
}

/**
 * A lower bound of kube's estimated cost of `rule` at schema node `s`, evaluated `cardinality`
 * times per object (0 when the rule does not parse: compilation reports it).
 */
export function ruleCostLowerBound(rule: string, s: JSONSchemaProps, cardinality: number): number {
  let ast: ASTNode;
  try {
    ast = parser.parse(rule).ast;
  } catch {
    return 0;
  }
  const scope: Scope = new Map([
    ["self", s],
    ["oldSelf", s],
  ]);
  return lowerBound(ast, scope) * cardinality;
}

/** kube's Forbidden detail for a rule whose cost surely passes 100× the per-rule limit. */
export function ruleCostError(cost: number): string | undefined {
  if (cost <= 100 * staticEstimatedCostLimit) return undefined;
  return `estimated rule cost exceeds budget by factor of more than 100x ${fixHint}`;
}

/** kube's Forbidden detail for a schema whose rules' total surely passes 100× its limit. */
export function totalCostError(total: number): string | undefined {
  if (total <= 100 * staticEstimatedCRDCostLimit) return undefined;
  return `x-kubernetes-validations estimated rule & messageExpression cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x ${fixHint}`;
}

/** The rules kube names as the most expensive contributors: the 4 costliest of at least 1% of the rule limit. */
export function mostExpensive<T extends { readonly cost: number }>(rules: readonly T[]): T[] {
  return rules
    .filter((r) => r.cost >= staticEstimatedCostLimit / 100)
    .sort((a, b) => b.cost - a.cost)
    .slice(0, 4);
}
