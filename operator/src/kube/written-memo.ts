// What the operator last made objects hold where no informer watches them (inside tenants):
// per object, the content it wrote (or found) and when. A reconcile that would write the same
// content again skips the read, which is the whole cost of an unchanged object there; after
// `ttlMs` the object is read again, so drift someone made inside a tenant is still repaired
// by a later reconcile.

/** One per operator (in OperatorContext); used by the reconcilers' steps inside tenants. */
export class WrittenMemo {
  readonly #entries = new Map<string, { readonly content: string; readonly at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `key` was made to hold `content` less than ttlMs ago. */
  holds(key: string, content: string): boolean {
    const e = this.#entries.get(key);
    return e !== undefined && e.content === content && this.now() - e.at < this.ttlMs;
  }

  /** Whether anything is remembered of `key` (a write, or a read that found it). */
  knows(key: string): boolean {
    return this.#entries.has(key);
  }

  /** `key` holds `content` now. */
  set(key: string, content: string): void {
    this.#entries.set(key, { content, at: this.now() });
  }

  /** `key` is gone (its tenant was torn down). */
  forget(key: string): void {
    this.#entries.delete(key);
  }
}
