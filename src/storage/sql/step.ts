import { StorageError } from '../errors.js'

/**
 * Queries written once for both stores. A store operation is a generator that yields each SQL
 * statement as data and receives its result; a driver runs it. better-sqlite3 runs it synchronously
 * inside its synchronous transaction (the audit's group commit relies on that: no other work can
 * interleave with an open SQLite transaction), pg runs it with an await per statement. Placeholders
 * are `?`; the PostgreSQL driver numbers them (`$1`, `$2`, …), so SQL text written here must not
 * contain a literal `?` (no string literal with one, no jsonb `?` operator).
 *
 * @example
 * function* versionOf(): Step<number> {
 *   const row = yield* get<{ version: number }>('SELECT version FROM revocation_version WHERE id = 1')
 *   return row?.version ?? 0
 * }
 */

export type SqlOp =
  /** Every row of a query. */
  | { readonly kind: 'all'; readonly sql: string; readonly params: readonly unknown[] }
  /** The first row, or undefined. */
  | { readonly kind: 'get'; readonly sql: string; readonly params: readonly unknown[] }
  /** A statement without rows; resolves to the number of rows it changed. */
  | { readonly kind: 'run'; readonly sql: string; readonly params: readonly unknown[] }
  /** Several statements without parameters (schema DDL). */
  | { readonly kind: 'exec'; readonly sql: string; readonly params: readonly [] }

export type Step<T> = Generator<SqlOp, T, unknown>

export function* all<R>(sql: string, params: readonly unknown[] = []): Step<R[]> {
  return (yield { kind: 'all', sql, params }) as R[]
}

export function* get<R>(sql: string, params: readonly unknown[] = []): Step<R | undefined> {
  return (yield { kind: 'get', sql, params }) as R | undefined
}

export function* run(sql: string, params: readonly unknown[] = []): Step<number> {
  return (yield { kind: 'run', sql, params }) as number
}

export function* exec(sql: string): Step<void> {
  yield { kind: 'exec', sql, params: [] }
}

/** A step that issues no statement (for dialects that need none where another needs one). */
// eslint-disable-next-line require-yield
export function* nothing(): Step<void> {
  return undefined
}

/** `step`, refusing to issue a second statement (bodies of `SqlDb.single`). */
export function* oneStatement<T>(what: string, step: Step<T>): Step<T> {
  let next = step.next()
  if (next.done) return next.value
  const result: unknown = yield next.value
  next = step.next(result)
  if (!next.done) throw new StorageError('invalid', `${what}: more than one statement outside a transaction`)
  return next.value
}

/** Drives `step` with a synchronous executor; a failed statement is thrown into the generator. */
export function runSync<T>(step: Step<T>, execute: (op: SqlOp) => unknown): T {
  let next = step.next()
  while (!next.done) {
    let result: unknown
    try {
      result = execute(next.value)
    } catch (error) {
      next = step.throw(error)
      continue
    }
    next = step.next(result)
  }
  return next.value
}

/** Drives `step` with an asynchronous executor, one statement at a time. */
export async function runAsync<T>(step: Step<T>, execute: (op: SqlOp) => Promise<unknown>): Promise<T> {
  let next = step.next()
  while (!next.done) {
    let result: unknown
    try {
      result = await execute(next.value)
    } catch (error) {
      next = step.throw(error)
      continue
    }
    next = step.next(result)
  }
  return next.value
}
