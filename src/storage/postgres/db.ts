import pg from 'pg'
import { asStorageError, StorageError } from '../errors.js'

/**
 * A pg Pool with the two things the adapter needs: transactions that always release their client,
 * and driver errors turned into `StorageError`s. int8 columns come back as numbers (positions and
 * millisecond times stay far below 2^53); this is set per pool, not globally, so other pg users in
 * the process are unaffected.
 */

const int8Oid = 20
const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
}

export type Queryable = Pick<pg.PoolClient, 'query'>

export interface PgDbOptions {
  readonly poolSize: number
  readonly schema?: string | undefined
}

export class PgDb {
  readonly pool: pg.Pool
  readonly schema: string | undefined
  #closed = false

  constructor(url: string, options: PgDbOptions) {
    this.schema = options.schema
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: 5_000,
      types: int8AsNumber,
      application_name: 'skillgate',
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    })
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined)
  }

  async query<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    this.#assertOpen()
    try {
      return (await this.pool.query<R>(sql, params)).rows
    } catch (error) {
      throw asStorageError(error, what)
    }
  }

  /** Runs `fn` in a transaction; rolls back on any error and rethrows it as a StorageError. */
  async tx<T>(what: string, fn: (client: Queryable) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    this.#assertOpen()
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw asStorageError(error, what)
    }
    let lost: Error | undefined
    const onError = (error: Error) => (lost = error)
    client.on('error', onError)
    try {
      await client.query(begin)
      const result = await fn(client)
      await client.query('COMMIT')
      client.off('error', onError)
      client.release()
      return result
    } catch (error) {
      // A failed rollback means the connection is broken: discard it instead of returning it.
      const broken = lost !== undefined || (await client.query('ROLLBACK').then(
        () => false,
        () => true,
      ))
      client.off('error', onError)
      client.release(broken)
      throw asStorageError(error, what)
    }
  }

  get closed(): boolean {
    return this.#closed
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.pool.end()
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageError('unavailable', 'the PostgreSQL store is closed')
  }
}

/** Rows of one query inside a transaction. */
export async function rows<R extends pg.QueryResultRow>(client: Queryable, sql: string, params: unknown[] = []): Promise<R[]> {
  return (await client.query<R>(sql, params)).rows
}
