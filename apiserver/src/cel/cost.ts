// Runtime cost of CEL evaluation, with kube-apiserver's limits (k8s.io/apiserver/pkg/apis/cel:
// PerCallLimit 1,000,000 per expression, RuntimeCELCostBudget 10,000,000 per object).
//
// The engine (@marcbachmann/cel-js) has no cost tracking, so this counts what it can see from
// outside: the values handed to an expression are wrapped so that every read of a list element
// costs 1 and every enumeration of a map's keys costs the number of keys. That is what drives
// cost in practice (comprehensions over lists and maps, and list functions such as sets.* and
// ==, which read elements). It is a lower bound of cel-go's actual cost, which charges at
// least one unit per comprehension iteration and also charges for every identifier, field
// selection, function call and string size (e.g. matches, contains, startsWith). So an
// expression this meter stops, kube stops too; kube stops some that this meter lets through
// (string-heavy ones, or ones over literals rather than over the object).

/** cel-go's per-expression runtime cost limit (celconfig.PerCallLimit). */
export const perCallLimit = 1_000_000;

/** The runtime cost budget for all expressions of one object (celconfig.RuntimeCELCostBudget). */
export const runtimeCostBudget = 10_000_000;

/** cel-go's error when an evaluation passes its cost limit. */
export const costLimitExceededMessage = "operation cancelled: actual cost limit exceeded";

class CostLimitExceeded extends Error {
  constructor() {
    super(costLimitExceededMessage);
  }
}

/** An array index property (the engine reads elements by index; a digit starts no other key). */
const isIndex = (key: string | symbol): boolean => {
  if (typeof key !== "string") return false;
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57;
};

/**
 * Counts the cost of the expressions evaluated over values it has wrapped (`track`). One meter
 * per object validation; `startCall` before each expression. Not shared between requests.
 */
export class CostMeter {
  private total = 0;
  private callStart = 0;
  private exceeded = false;
  private readonly views = new WeakMap<object, object>();

  constructor(private readonly callLimit = perCallLimit) {}

  /** Starts counting one expression's evaluation. */
  startCall(): void {
    this.callStart = this.total;
    this.exceeded = false;
  }

  /** The cost of the expression since `startCall`. */
  get callCost(): number {
    return this.total - this.callStart;
  }

  /** The expression passed the per-call limit (its evaluation was interrupted). */
  get callExceeded(): boolean {
    return this.exceeded;
  }

  private charge(n: number): void {
    this.total += n;
    if (this.total - this.callStart > this.callLimit) {
      this.exceeded = true;
      throw new CostLimitExceeded();
    }
  }

  /** A view of a CEL value whose list reads and map key enumerations are charged. */
  track<T>(v: T): T {
    if (v === null || typeof v !== "object") return v;
    const isArray = Array.isArray(v);
    if (!isArray && Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      return v; // engine values (Quantity, URL…) and Maps are not the object's data
    }
    const cached = this.views.get(v);
    if (cached !== undefined) return cached as T;
    const view = new Proxy(v, {
      get: (target, key, receiver) => {
        if (isArray && isIndex(key)) this.charge(1);
        const x: unknown = Reflect.get(target, key, receiver);
        return x !== null && typeof x === "object" ? this.track(x) : x;
      },
      ownKeys: (target) => {
        const keys = Reflect.ownKeys(target);
        if (!isArray) this.charge(keys.length);
        return keys;
      },
    });
    this.views.set(v, view);
    return view;
  }
}
