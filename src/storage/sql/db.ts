import type { Step } from './step.js'

/**
 * The one SQL layer both stores share (sqlite/connection.ts and postgres/db.ts implement it). Every
 * store in `src/storage/*-store.ts` is written once against it; the dialect keeps the few things that
 * truly differ between SQLite and PostgreSQL.
 */

/** Column types the dialects map: 64-bit integers, text, and a list of texts (JSON text / TEXT[]). */
export type ColumnType = 'int8' | 'text' | 'textlist'

export interface Column {
  readonly name: string
  readonly type: ColumnType
}

export interface Dialect {
  readonly name: 'sqlite' | 'postgres'
  /** `column IN (…)` for a list bound to one `?`; bind `list(values)`. */
  inList(column: string, type: 'int8' | 'text'): string
  /** A list parameter for `inList`. */
  list(values: readonly unknown[]): unknown
  /** `column` (a textlist) contains the text bound to `?`. */
  listContains(column: string): string
  /** The text of top-level member `member` (a fixed identifier, never user input) of the JSON text in `column`. */
  jsonMember(column: string, member: string): string
  /** A textlist as it comes back from a query. */
  readList(value: unknown): string[]
  /** Suffix of a SELECT that locks its rows until commit (PostgreSQL); SQLite's write transaction already holds the file lock. */
  readonly forUpdate: string
  /** Serialises transactions on (`scope`, `key`) until commit (a PostgreSQL advisory lock); nothing in SQLite, whose writers are serial. */
  lock(scope: string, key: string): Step<void>
  /** Inserts rows of `columns` (values in column order): one statement per row in SQLite, one `unnest` statement in PostgreSQL. */
  insertMany(table: string, columns: readonly Column[], rows: ReadonlyArray<readonly unknown[]>): Step<void>
  /**
   * Inserts rows of `columns`, or on a conflict over `conflict` applies `set` (which may name
   * `excluded.<column>` and `<table>.<column>`), returning `returning` of every row: one statement
   * per row in SQLite (prepared once, synchronous), one `unnest` statement in PostgreSQL. Rows must
   * not repeat a conflict key (PostgreSQL cannot update one row twice in a statement).
   */
  upsertMany<R>(table: string, columns: readonly Column[], conflict: readonly string[], set: string, rows: ReadonlyArray<readonly unknown[]>, returning: string): Step<R[]>
  /**
   * Updates rows by `key`, setting `set` from each row (values: key first, then `set` in order),
   * where `condition` (qualified with the table name) also holds.
   */
  updateMany(table: string, key: Column, set: readonly Column[], rows: ReadonlyArray<readonly unknown[]>, condition: string): Step<void>
  /** Whether `table` exists (before migrations ran). */
  tableExists(table: string): Step<boolean>
  /** Runs first in the migration transaction (PostgreSQL: an advisory lock and the schema). */
  beforeMigrations(): Step<void>
  /** Inside a write transaction: wakes `SqlDb.listen(topic)` in every process at commit (PostgreSQL NOTIFY); nothing in SQLite. */
  notify(topic: string): Step<void>
}

export type Body<T> = (d: Dialect) => Step<T>

export interface SqlDb {
  readonly dialect: Dialect
  /** One write transaction: SQLite `BEGIN IMMEDIATE` (synchronous), PostgreSQL `BEGIN`. */
  write<T>(what: string, body: Body<T>): Promise<T>
  /** One consistent snapshot: SQLite deferred transaction under WAL, PostgreSQL REPEATABLE READ READ ONLY. */
  read<T>(what: string, body: Body<T>): Promise<T>
  /**
   * One statement on its own (the body may yield only one): PostgreSQL autocommit, one round trip
   * instead of three; SQLite a read or write transaction as `access` says.
   */
  single<T>(what: string, access: 'read' | 'write', body: Body<T>): Promise<T>
  /**
   * Calls `onNotify` whenever a committed transaction ran `notify(topic)`, in any process on this
   * store (PostgreSQL LISTEN on a connection of its own). Undefined where the store cannot push
   * (SQLite): callers poll. Resolves to the function that stops listening.
   */
  readonly listen?: (topic: string, onNotify: () => void) => Promise<() => Promise<void>>
  readonly closed: boolean
  close(): Promise<void>
}
