// The embedded storage engine for `multiplane up`: an etcd-like MVCC key-value store in one
// SQLite file, modelled on kine (k3s). Every write appends rows; nothing is updated in place
// until compaction. The generic Store (../store.ts) is the only caller.
//
// Schema (one row per key per revision):
//
//   kv(revision, name, deleted, create_revision, prev_revision, value)
//     revision         the global revision of the write (etcd's mod_revision)
//     deleted          1 for a tombstone: the key was deleted at `revision`
//     create_revision  revision of the create that started this life of the key
//     prev_revision    revision of the key's previous live row (0 for a create), so the
//                      previous value (MODIFIED's prev, DELETED's last state) is a join away
//     value            the bytes; NULL in tombstones (the last state is the prev row)
//   meta(key, value)   schema version and the compacted revision
//
// `revision` is a column, not the rowid: etcd gives a whole DeleteRange one revision, so
// one revision can own many rows (one per deleted key). (name, revision) is unique.
//
// Invariants the reads rely on:
//  - The current revision is max(revision) over kv, or the compacted revision if larger
//    (compaction may remove the newest tombstone; a revision is never handed out twice).
//  - Compaction at C keeps, for every key, its latest row with revision <= C unless that
//    row is a tombstone, and every row above C. So reads at any revision >= C are exact,
//    and the prev row of every event above C is still there.
//
// Concurrency: better-sqlite3 is synchronous and Node runs one thread, so every statement
// below runs without interleaving. Writes are queued and committed together on the next
// tick (group commit: one fsync for many writes); each is evaluated in order, inside the
// transaction, against the state left by the ones before it, exactly as if run one by one.

import Database from "better-sqlite3";
import { Buffer } from "node:buffer";
import { closeSync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { invalidArgument, StorageError, timeout, tooOldResourceVersion, unavailable } from "../errors.ts";
import type {
  Backend,
  KeyValue,
  RangeResult,
  TxnResult,
  Watch,
  WatchEvent,
  WatchHandlers,
  WatchOptions,
} from "../interface.ts";

/** Tuning for {@link SqliteBackend.open}. Read once; never modified. */
export interface SqliteBackendOptions {
  /** How often an idle, caught-up watch with `progressNotify` gets a PROGRESS event. Default 5000 ms. */
  readonly progressNotifyIntervalMs?: number;
  /** How long `open` waits for another process to release the file before failing. Default 0 (fail at once). */
  readonly lockTimeoutMs?: number;
  /** At most this many writes per group commit; the rest go in the next one. Default 1000. */
  readonly maxGroupOps?: number;
  /** Rows compaction examines per transaction, so a large compaction never blocks the loop for long. Default 5000. */
  readonly compactBatchRows?: number;
}

const schemaVersion = 1;

const schema = `
CREATE TABLE IF NOT EXISTS kv (
  revision        INTEGER NOT NULL,
  name            TEXT    NOT NULL,
  deleted         INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  value           BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS kv_name_revision ON kv (name, revision);
CREATE INDEX IF NOT EXISTS kv_revision ON kv (revision);
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

const sql = {
  latest: `SELECT revision, deleted, create_revision, value FROM kv WHERE name = ? ORDER BY revision DESC LIMIT 1`,
  atRevision: `SELECT revision, deleted, create_revision, value FROM kv
               WHERE name = ? AND revision <= ? ORDER BY revision DESC LIMIT 1`,
  // The latest row of each key in [start, end) at revision <= ?, unless a tombstone. Written as
  // a correlated subquery so SQLite walks kv_name_revision in key order and stops at the limit.
  range: `SELECT k.name, k.revision, k.create_revision, k.value FROM kv AS k
          WHERE k.name >= @start AND k.name < @end AND k.revision <= @revision AND k.deleted = 0
            AND k.revision = (SELECT max(revision) FROM kv AS n WHERE n.name = k.name AND n.revision <= @revision)
          ORDER BY k.name LIMIT @limit`,
  count: `SELECT count(*) FROM (
            SELECT name, max(revision) AS revision FROM kv
            WHERE name >= @start AND name < @end AND revision <= @revision GROUP BY name
          ) AS m JOIN kv AS k ON k.name = m.name AND k.revision = m.revision
          WHERE k.deleted = 0`,
  // Watch catch-up. INDEXED BY: the cost is the history since the watch's revision (short for a
  // watch resuming after a list), not every row ever kept under the prefix.
  history: `SELECT k.name, k.revision, k.deleted, k.create_revision, k.prev_revision, k.value, p.value AS prev_value
            FROM kv AS k INDEXED BY kv_revision
            LEFT JOIN kv AS p ON p.name = k.name AND p.revision = k.prev_revision
            WHERE k.revision > ? AND k.name >= ? AND k.name < ?
            ORDER BY k.revision, k.name`,
  insert: `INSERT INTO kv (revision, name, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)`,
  maxRevision: `SELECT max(revision) FROM kv`,
  minRevision: `SELECT min(revision) FROM kv`,
  revisionAtOffset: `SELECT revision FROM kv WHERE revision >= ? ORDER BY revision LIMIT 1 OFFSET ?`,
  // A row is superseded when the same key has a later row at or below the compaction revision.
  deleteSuperseded: `DELETE FROM kv WHERE revision >= ? AND revision < ? AND EXISTS (
                       SELECT 1 FROM kv AS n WHERE n.name = kv.name AND n.revision > kv.revision AND n.revision <= ?)`,
  deleteTombstones: `DELETE FROM kv WHERE revision >= ? AND revision < ? AND deleted = 1`,
  getMeta: `SELECT value FROM meta WHERE key = ?`,
  setMeta: `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
} as const;

interface LatestRow {
  revision: number;
  deleted: number;
  create_revision: number;
  value: Buffer | null;
}

interface RangeRow {
  name: string;
  revision: number;
  create_revision: number;
  value: Buffer;
}

interface HistoryRow {
  name: string;
  revision: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: Buffer | null;
  prev_value: Buffer | null;
}

type Statements = { readonly [K in keyof typeof sql]: Database.Statement };

/** Statements of one column, which return its value rather than a row. */
const plucked: ReadonlySet<keyof typeof sql> = new Set([
  "count",
  "maxRevision",
  "minRevision",
  "revisionAtOffset",
  "getMeta",
] as const);

/** An event a write produces (PROGRESS comes from the timer or from requestProgress, never from a write). */
type ChangeEvent = Exclude<WatchEvent, { type: "PROGRESS" }>;

/** The revision counter and the events of one group commit, threaded through its writes. */
interface Group {
  /** The last revision handed out (the committed revision when the group starts). */
  revision: number;
  readonly events: ChangeEvent[];
  /** Resolves each write's promise with its result; run only after the commit. */
  readonly settle: (() => void)[];
}

interface QueuedWrite {
  /** Evaluates the write inside the group's transaction; returns what settles its promise after the commit. */
  readonly apply: (group: Group) => () => void;
  readonly reject: (err: unknown) => void;
}

/** One registered watch. Its events are queued in `pending` and handed over in one batch per tick. */
interface Watcher {
  readonly start: string;
  readonly end: string;
  readonly handlers: WatchHandlers;
  readonly progressNotify: boolean;
  /** Every event at or below this revision was queued (or filtered out); live events must be above it. */
  cursor: number;
  pending: WatchEvent[];
  scheduled: boolean;
  ended: boolean;
}

const closedError = (): StorageError => unavailable("embedded storage is closed");

/** Maps a driver error to Unavailable (busy, I/O, full disk, corruption); anything else is a bug and stays as is. */
function toStorageError(err: unknown, what: string): Error {
  if (err instanceof Database.SqliteError) {
    return unavailable(`embedded storage: ${what}: ${err.code}: ${err.message}`, err);
  }
  return err instanceof Error ? err : new Error(String(err));
}

const eventRevision = (ev: ChangeEvent): number => (ev.type === "DELETED" ? ev.revision : ev.kv.modRevision);

/** Runs a synchronous read, turning a throw into a rejection. */
function settled<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function eventFromRow(row: HistoryRow): ChangeEvent {
  const key = row.name;
  if (row.deleted !== 0) {
    // The prev row is always kept for events above the compacted revision (see the invariants above).
    const value = row.prev_value ?? Buffer.alloc(0);
    return {
      type: "DELETED",
      kv: { key, value, createRevision: row.create_revision, modRevision: row.prev_revision },
      revision: row.revision,
    };
  }
  const kv: KeyValue = {
    key,
    value: row.value ?? Buffer.alloc(0),
    createRevision: row.create_revision,
    modRevision: row.revision,
  };
  if (row.revision === row.create_revision) return { type: "ADDED", kv };
  if (row.prev_value === null) return { type: "MODIFIED", kv };
  return {
    type: "MODIFIED",
    kv,
    prev: { key, value: row.prev_value, createRevision: row.create_revision, modRevision: row.prev_revision },
  };
}

export class SqliteBackend implements Backend {
  /**
   * Opens (creating when absent) the store at `path` and locks it for this process: a second
   * opener, in this process or another, fails with Unavailable until `close()`.
   */
  static open(path: string, opts: SqliteBackendOptions = {}): SqliteBackend {
    let db: Database.Database;
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      db = new Database(path, { timeout: opts.lockTimeoutMs ?? 0 });
    } catch (err) {
      throw unavailable(`cannot open embedded storage ${path}: ${String(err)}`, err);
    }
    try {
      // EXCLUSIVE before WAL: SQLite then keeps the WAL index in process memory (no -shm file) and
      // never releases its file lock, so no other process can read or write behind our in-memory
      // revision counter and watch fan-out. Taking the write lock now makes a second opener fail here.
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = WAL");
      db.exec("BEGIN EXCLUSIVE; COMMIT");
      // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss.
      db.pragma("synchronous = FULL");
      db.pragma("journal_size_limit = 67108864");
      db.pragma("cache_size = -16384");
      db.exec(schema);
      const version = db.prepare(sql.getMeta).pluck().get("schema_version") as number | undefined;
      if (version === undefined) {
        db.prepare(sql.setMeta).run("schema_version", schemaVersion);
      } else if (version !== schemaVersion) {
        throw unavailable(
          `embedded storage ${path} has schema version ${version}; this build reads ${schemaVersion}`,
        );
      }
      // The file's directory entry must outlive a power loss too (SQLite syncs the directory for the
      // WAL it creates, not for the database file itself).
      if (path !== ":memory:") syncDirectory(dirname(path));
      return new SqliteBackend(db, opts);
    } catch (err) {
      db.close();
      if (
        err instanceof Database.SqliteError &&
        (err.code === "SQLITE_BUSY" || err.code === "SQLITE_LOCKED")
      ) {
        throw unavailable(
          `embedded storage ${path} is in use by another process (or another open in this one); ` +
            `only one Multiplane may open it at a time`,
          err,
        );
      }
      if (err instanceof StorageError) throw err;
      throw unavailable(`cannot open embedded storage ${path}: ${String(err)}`, err);
    }
  }

  private readonly stmts: Statements;
  private readonly runGroup: Database.Transaction<(writes: QueuedWrite[], group: Group) => (() => void)[]>;
  private readonly compactWindow: Database.Transaction<(lo: number, hi: number, target: number) => void>;
  private readonly progressIntervalMs: number;
  private readonly maxGroupOps: number;
  private readonly compactBatchRows: number;

  /** The last committed revision. */
  private revision: number;
  /** Reads and watches below this revision are Gone. */
  private compacted: number;
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly watchers = new Set<Watcher>();
  private progressWatchers = 0;
  private progressTimer: NodeJS.Timeout | undefined;
  /** Compactions run one at a time, in call order. */
  private compaction: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Database.Database,
    opts: SqliteBackendOptions,
  ) {
    const stmts: Partial<Record<keyof typeof sql, Database.Statement>> = {};
    for (const [name, source] of Object.entries(sql) as [keyof typeof sql, string][]) {
      stmts[name] = plucked.has(name) ? db.prepare(source).pluck() : db.prepare(source);
    }
    this.stmts = stmts as Statements;
    this.progressIntervalMs = opts.progressNotifyIntervalMs ?? 5000;
    this.maxGroupOps = opts.maxGroupOps ?? 1000;
    this.compactBatchRows = opts.compactBatchRows ?? 5000;
    this.runGroup = db.transaction((writes: QueuedWrite[], group: Group) =>
      writes.map((w) => w.apply(group)),
    );
    this.compactWindow = db.transaction((lo: number, hi: number, target: number) => {
      // Superseded rows first, so a tombstone never goes while an older live row of its key remains.
      this.stmts.deleteSuperseded.run(lo, hi, target);
      this.stmts.deleteTombstones.run(lo, hi);
    });
    this.compacted = (this.stmts.getMeta.get("compacted") as number | undefined) ?? 0;
    const maxRow = (this.stmts.maxRevision.get() as number | null) ?? 0;
    this.revision = Math.max(maxRow, this.compacted);
  }

  // -------------------------------------------------------------------------
  // Reads: run at once against the committed state.

  get(key: string, revision?: number): Promise<{ kv: KeyValue | undefined; revision: number }> {
    return settled(() => {
      const rev = this.readRevision(revision);
      let row: LatestRow | undefined;
      try {
        row = this.stmts.atRevision.get(key, rev) as LatestRow | undefined;
      } catch (err) {
        throw toStorageError(err, "get");
      }
      if (row === undefined || row.deleted !== 0 || row.value === null)
        return { kv: undefined, revision: rev };
      return {
        kv: { key, value: row.value, createRevision: row.create_revision, modRevision: row.revision },
        revision: rev,
      };
    });
  }

  range(start: string, end: string, opts: { revision?: number; limit?: number }): Promise<RangeResult> {
    return settled(() => {
      const rev = this.readRevision(opts.revision);
      const limit = opts.limit ?? 0;
      if (!Number.isSafeInteger(limit) || limit < 0) throw invalidArgument(`invalid limit: ${limit}`);
      try {
        const kvs = this.rangeAt(start, end, rev, limit);
        // A short page is the whole range; only a full one needs counting.
        const count =
          limit > 0 && kvs.length >= limit
            ? (this.stmts.count.get({ start, end, revision: rev }) as number)
            : kvs.length;
        return { kvs, count, revision: rev };
      } catch (err) {
        throw toStorageError(err, "range");
      }
    });
  }

  currentRevision(): Promise<number> {
    return this.closed ? Promise.reject(closedError()) : Promise.resolve(this.revision);
  }

  /** The revision a read runs at: the latest when absent or 0; Gone below the compacted revision. */
  private readRevision(requested: number | undefined): number {
    if (this.closed) throw closedError();
    if (requested === undefined || requested === 0) return this.revision;
    if (!Number.isSafeInteger(requested) || requested < 0)
      throw invalidArgument(`invalid revision: ${requested}`);
    if (requested < this.compacted) throw tooOldResourceVersion(requested, this.compacted);
    if (requested > this.revision) {
      throw timeout(`Too large resource version: ${requested}, current: ${this.revision}`);
    }
    return requested;
  }

  private rangeAt(start: string, end: string, revision: number, limit: number): KeyValue[] {
    const rows = this.stmts.range.all({ start, end, revision, limit: limit > 0 ? limit : -1 }) as RangeRow[];
    return rows.map((r) => ({
      key: r.name,
      value: r.value,
      createRevision: r.create_revision,
      modRevision: r.revision,
    }));
  }

  // -------------------------------------------------------------------------
  // Writes: queued, then evaluated and committed together (see flush).

  create(key: string, value: Uint8Array): Promise<TxnResult> {
    // Copied now: the caller may reuse its buffer before the group commits.
    const bytes = Buffer.from(value);
    return this.enqueue((group): TxnResult => {
      const current = this.latest(key);
      if (current !== undefined) return { ok: false, current };
      const revision = ++group.revision;
      this.stmts.insert.run(revision, key, 0, revision, 0, bytes);
      const kv: KeyValue = { key, value: bytes, createRevision: revision, modRevision: revision };
      group.events.push({ type: "ADDED", kv });
      return { ok: true, kv };
    });
  }

  update(key: string, value: Uint8Array, modRevision: number): Promise<TxnResult> {
    const bytes = Buffer.from(value);
    return this.enqueue((group): TxnResult => {
      const current = this.latest(key);
      if (current === undefined || current.modRevision !== modRevision) return { ok: false, current };
      const revision = ++group.revision;
      this.stmts.insert.run(revision, key, 0, current.createRevision, current.modRevision, bytes);
      const kv: KeyValue = {
        key,
        value: bytes,
        createRevision: current.createRevision,
        modRevision: revision,
      };
      group.events.push({ type: "MODIFIED", kv, prev: current });
      return { ok: true, kv };
    });
  }

  delete(
    key: string,
    modRevision: number,
  ): Promise<{ ok: true; kv: KeyValue; revision: number } | { ok: false; current: KeyValue | undefined }> {
    return this.enqueue((group) => {
      const current = this.latest(key);
      if (current === undefined || current.modRevision !== modRevision)
        return { ok: false as const, current };
      const revision = ++group.revision;
      this.stmts.insert.run(revision, key, 1, current.createRevision, current.modRevision, null);
      group.events.push({ type: "DELETED", kv: current, revision });
      return { ok: true as const, kv: current, revision };
    });
  }

  /** Deletes every live key in [start, end) at ONE revision, as etcd's DeleteRange does; none: no revision. */
  deleteRange(start: string, end: string): Promise<number> {
    return this.enqueue((group) => {
      const live = this.rangeAt(start, end, group.revision, 0);
      if (live.length === 0) return 0;
      const revision = ++group.revision;
      for (const kv of live) {
        this.stmts.insert.run(revision, kv.key, 1, kv.createRevision, kv.modRevision, null);
        group.events.push({ type: "DELETED", kv, revision });
      }
      return live.length;
    });
  }

  /** The live state of `key`, including writes earlier in the running group. */
  private latest(key: string): KeyValue | undefined {
    const row = this.stmts.latest.get(key) as LatestRow | undefined;
    if (row === undefined || row.deleted !== 0 || row.value === null) return undefined;
    return { key, value: row.value, createRevision: row.create_revision, modRevision: row.revision };
  }

  private enqueue<T>(evaluate: (group: Group) => T): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        apply: (group) => {
          const result = evaluate(group);
          return () => resolve(result);
        },
        reject,
      });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Group commit. Order matters: commit, then queue the events for watchers (in the same
   * synchronous block, so a watch created later reads them from the table instead and none is
   * seen twice or missed), then resolve the callers: an acknowledged write is always on disk.
   */
  private flush(): void {
    this.flushScheduled = false;
    const writes = this.queue.splice(0, this.maxGroupOps);
    if (this.queue.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    if (writes.length === 0) return;
    let group: Group;
    try {
      group = this.commit(writes);
    } catch (err) {
      if (writes.length === 1) {
        writes[0]?.reject(toStorageError(err, "write"));
        return;
      }
      // Nothing of the group was committed or acknowledged: retry each write alone, so one
      // that fails (a value too large, say) fails alone. A broken disk fails them all, one by one.
      for (const write of writes) {
        let one: Group;
        try {
          one = this.commit([write]);
        } catch (e) {
          write.reject(toStorageError(e, "write"));
          continue;
        }
        this.publish(one);
      }
      return;
    }
    this.publish(group);
  }

  /** Runs `writes` in one transaction; throws only when it rolled back (nothing changed). */
  private commit(writes: QueuedWrite[]): Group {
    const group: Group = { revision: this.revision, events: [], settle: [] };
    group.settle.push(...this.runGroup.immediate(writes, group));
    this.revision = group.revision;
    return group;
  }

  /** After a commit: events to the watchers first, then the callers' promises. */
  private publish(group: Group): void {
    this.dispatch(group.events);
    for (const settle of group.settle) settle();
  }

  // -------------------------------------------------------------------------
  // Watches.

  watch(start: string, end: string, handlers: WatchHandlers, opts: WatchOptions): Watch {
    const w: Watcher = {
      start,
      end,
      handlers,
      progressNotify: opts.progressNotify === true,
      cursor: 0,
      pending: [],
      scheduled: false,
      ended: false,
    };
    const handle: Watch = {
      stop: () => this.stopWatcher(w),
      requestProgress: () => this.requestProgress(w),
    };
    const after = opts.afterRevision ?? 0;
    let failure: Error | undefined;
    if (this.closed) failure = closedError();
    else if (!Number.isSafeInteger(after) || after < 0)
      failure = invalidArgument(`invalid watch revision: ${after}`);
    else if (after > 0 && after < this.compacted) failure = tooOldResourceVersion(after, this.compacted);
    if (failure === undefined && after > 0 && after < this.revision) {
      // Catch-up, read synchronously: no commit can run between this read and the registration
      // below, so every event is either in this read or dispatched live, never both or neither.
      try {
        const rows = this.stmts.history.all(after, start, end) as HistoryRow[];
        for (const row of rows) w.pending.push(eventFromRow(row));
      } catch (err) {
        failure = toStorageError(err, "watch");
      }
    }
    if (failure !== undefined) {
      const err = failure;
      let stopped = false;
      // Never inside watch(): the caller has not even got its handle yet. A macrotask, so a
      // caller that re-watches at once on error cannot starve the event loop.
      setImmediate(() => {
        if (!stopped) handlers.onError(err);
      });
      return {
        stop: () => {
          stopped = true;
          return Promise.resolve();
        },
        // The watch ends with its error: there is no progress to report.
        requestProgress: () => undefined,
      };
    }
    w.cursor = Math.max(after, this.revision);
    this.watchers.add(w);
    if (w.progressNotify) this.addProgressWatcher();
    if (w.pending.length > 0) this.scheduleDelivery(w);
    return handle;
  }

  /** Queues a committed group's events for every watcher whose range holds them. */
  private dispatch(events: readonly ChangeEvent[]): void {
    const revision = this.revision;
    for (const w of this.watchers) {
      let queued = false;
      for (const ev of events) {
        if (eventRevision(ev) <= w.cursor) continue;
        // Both bounds are plain string comparisons; ranges are prefixes ending in "/", for which
        // JS (UTF-16) order and SQLite's (UTF-8 bytes) agree.
        const key = ev.kv.key;
        if (key < w.start || key >= w.end) continue;
        w.pending.push(ev);
        queued = true;
      }
      if (revision > w.cursor) w.cursor = revision;
      if (queued) this.scheduleDelivery(w);
    }
  }

  private scheduleDelivery(w: Watcher): void {
    if (w.scheduled) return;
    w.scheduled = true;
    queueMicrotask(() => {
      w.scheduled = false;
      this.deliver(w);
    });
  }

  /** Hands over everything queued for `w` in one call (so a slow consumer holds one batch, not a growing backlog). */
  private deliver(w: Watcher): void {
    if (w.ended || w.pending.length === 0) return;
    const batch = w.pending;
    w.pending = [];
    try {
      w.handlers.onEvents(batch);
    } catch (err) {
      // onEvents must not throw; when it does, the watch ends rather than skipping events silently.
      this.endWatcher(w);
      w.handlers.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private stopWatcher(w: Watcher): Promise<void> {
    this.endWatcher(w);
    return Promise.resolve();
  }

  private endWatcher(w: Watcher): void {
    if (w.ended) return;
    w.ended = true;
    w.pending = [];
    this.watchers.delete(w);
    if (w.progressNotify) {
      this.progressWatchers--;
      if (this.progressWatchers === 0 && this.progressTimer !== undefined) {
        clearInterval(this.progressTimer);
        this.progressTimer = undefined;
      }
    }
  }

  private addProgressWatcher(): void {
    this.progressWatchers++;
    if (this.progressTimer !== undefined) return;
    this.progressTimer = setInterval(() => this.notifyProgress(), this.progressIntervalMs);
    this.progressTimer.unref();
  }

  /** PROGRESS only for watchers that have been handed every event up to the current revision. */
  private notifyProgress(): void {
    const revision = this.revision;
    for (const w of this.watchers) {
      if (!w.progressNotify || w.ended || w.pending.length > 0 || w.cursor !== revision) continue;
      w.pending.push({ type: "PROGRESS", revision });
      this.scheduleDelivery(w);
    }
  }

  /**
   * PROGRESS at the committed revision, queued behind the events `w` was not handed yet, so it
   * never overtakes one: each commit queues its events for every watcher in the same synchronous
   * block, so every event of `w` at or below the committed revision is delivered or in `pending`.
   * The committed revision, not the last one a running group handed out: writes still in the
   * group-commit queue are above it and reach `w` as events after this PROGRESS.
   */
  private requestProgress(w: Watcher): void {
    if (w.ended) return;
    const progress: WatchEvent = { type: "PROGRESS", revision: this.revision };
    // Coalesced: a PROGRESS still waiting at the end of the queue is answered by the newer one.
    if (w.pending.at(-1)?.type === "PROGRESS") w.pending[w.pending.length - 1] = progress;
    else w.pending.push(progress);
    this.scheduleDelivery(w);
  }

  // -------------------------------------------------------------------------
  // Compaction.

  /**
   * Makes reads and watches below `revision` Gone, then removes the rows no read at or above
   * it can see, a batch per transaction. Compacting at or below the compacted revision is a no-op.
   */
  compact(revision: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    if (!Number.isSafeInteger(revision) || revision <= 0) {
      return Promise.reject(invalidArgument(`invalid compaction revision ${revision}`));
    }
    if (revision > this.revision) {
      return Promise.reject(
        invalidArgument(`compaction revision ${revision} is ahead of the current revision ${this.revision}`),
      );
    }
    const run = this.compaction.then(() => this.runCompaction(revision));
    this.compaction = run.catch(() => undefined);
    return run;
  }

  private async runCompaction(target: number): Promise<void> {
    if (this.closed) throw closedError();
    if (target <= this.compacted) return;
    try {
      this.stmts.setMeta.run("compacted", target);
    } catch (err) {
      throw toStorageError(err, "compact");
    }
    this.compacted = target;
    // Windows of revisions, oldest first: a tombstone's older rows go in its window or an earlier one.
    let lo = this.stmts.minRevision.get() as number | null;
    while (lo !== null && lo <= target) {
      // Closing leaves the rest; the next compaction starts again from the oldest row.
      if (this.closed) return;
      const boundary = this.stmts.revisionAtOffset.get(lo, this.compactBatchRows) as number | undefined;
      const hi = Math.min(target + 1, Math.max(boundary ?? Number.MAX_SAFE_INTEGER, lo + 1));
      try {
        this.compactWindow.immediate(lo, hi, target);
      } catch (err) {
        throw toStorageError(err, "compact");
      }
      lo = hi;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  // -------------------------------------------------------------------------

  /**
   * Commits the writes already accepted, ends every watch (with Unavailable, after handing
   * over what was queued for it), and closes the file. No callback runs after it resolves.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0) this.flush();
    await this.compaction;
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    this.progressTimer = undefined;
    for (const w of [...this.watchers]) {
      this.deliver(w);
      if (w.ended) continue;
      this.endWatcher(w);
      w.handlers.onError(closedError());
    }
    this.db.close();
  }
}
