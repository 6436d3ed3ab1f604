/**
 * The one error storage methods reject with. `unavailable` means nothing was committed and the
 * caller must fail closed (strict audit → 503); `forbidden` is a refused action (self-approval); the
 * other codes are caller mistakes or races.
 * Messages never contain a connection string or row content (the cause keeps the driver error for
 * logs).
 */
export type StorageErrorCode = 'unavailable' | 'conflict' | 'not_found' | 'invalid' | 'schema' | 'forbidden'

const storageErrorBrand = Symbol.for('skillgate.StorageError')

export class StorageError extends Error {
  readonly [storageErrorBrand] = true
  readonly code: StorageErrorCode

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StorageError'
    this.code = code
  }

  /** Works across module copies (the brand is a registered symbol). */
  static is(value: unknown): value is StorageError {
    return typeof value === 'object' && value !== null && storageErrorBrand in value
  }
}

/** Wraps a driver failure; StorageErrors pass through unchanged. */
export function asStorageError(error: unknown, what: string): StorageError {
  if (StorageError.is(error)) return error
  if (isMissingSchema(error)) {
    return new StorageError('schema', `${what} failed: the store schema is missing or outdated; run \`skillgate migrate\``, { cause: error })
  }
  return new StorageError('unavailable', `${what} failed: ${describeDriverError(error)}`, { cause: error })
}

/** Driver error codes and short messages are safe (they name tables and states, not values). */
function describeDriverError(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error)
  const e = error as { code?: unknown; message?: unknown }
  const code = typeof e.code === 'string' ? e.code : undefined
  const message = typeof e.message === 'string' ? e.message.split('\n')[0]?.slice(0, 200) : undefined
  return [code, message].filter((v) => v !== undefined && v !== '').join(': ') || 'unknown error'
}

/** PostgreSQL `undefined_table` / `undefined_column`, or SQLite's "no such table/column". */
function isMissingSchema(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown; message?: unknown }
  if (e.code === '42P01' || e.code === '42703') return true
  return typeof e.message === 'string' && /^no such (table|column)/.test(e.message)
}
