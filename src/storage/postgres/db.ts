import pg from 'pg'
import { asStorageError, StorageError } from '../errors.js'
import type { StorageErrorHandler } from '../ports.js'
import type { Body, Dialect, SqlDb } from '../sql/db.js'
import { oneStatement, runAsync, type SqlOp } from '../sql/step.js'
import { notifyChannel, postgresDialect } from './dialect.js'

/**
 * A pg Pool behind the shared SQL layer: transactions that always release their client, `?`
 * placeholders numbered for pg, and driver errors turned into `StorageError`s. int8 columns come
 * back as numbers (positions and millisecond times stay far below 2^53); this is set per pool, not
 * globally, so other pg users in the process are unaffected.
 */

const int8Oid = 20
const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8Oid ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
}

type Queryable = Pick<pg.PoolClient, 'query'>

export interface PgDbOptions {
  readonly poolSize: number
  readonly schema?: string | undefined
  /** Told when an idle pooled connection fails (nobody awaits it). */
  readonly onError?: StorageErrorHandler | undefined
}

export class PgDb implements SqlDb {
  readonly dialect: Dialect
  readonly pool: pg.Pool
  readonly schema: string | undefined
  readonly #numbered = new Map<string, string>()
  readonly #url: string
  readonly #onError: StorageErrorHandler | undefined
  readonly #listeners = new Set<pg.Client>()
  #closed = false

  constructor(url: string, options: PgDbOptions) {
    this.#url = url
    this.#onError = options.onError
    this.schema = options.schema
    this.dialect = postgresDialect(options.schema)
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: 5_000,
      types: int8AsNumber,
      application_name: 'skillgate',
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    })
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', (error) => options.onError?.('postgres-idle-connection', error))
  }

  write<T>(what: string, body: Body<T>): Promise<T> {
    return this.#transaction(what, body, 'BEGIN')
  }

  read<T>(what: string, body: Body<T>): Promise<T> {
    return this.#transaction(what, body, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
  }

  /** Autocommit: a second statement would not share the first one's transaction, so it is refused. */
  async single<T>(what: string, _access: 'read' | 'write', body: Body<T>): Promise<T> {
    this.#assertOpen()
    try {
      return await runAsync(oneStatement(what, body(this.dialect)), (op) => this.#execute(this.pool, op))
    } catch (error) {
      throw asStorageError(error, what)
    }
  }

  get closed(): boolean {
    return this.#closed
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([...this.#listeners].map((client) => client.end().catch(() => undefined)))
    await this.pool.end()
  }

  /**
   * LISTEN on a connection of its own (a pooled one would be handed to others). A lost connection
   * is reported and not retried here: callers keep polling, which is what they do without it.
   */
  readonly listen = async (topic: string, onNotify: () => void): Promise<() => Promise<void>> => {
    this.#assertOpen()
    const channel = notifyChannel(topic, this.schema)
    const client = new pg.Client({ connectionString: this.#url, application_name: 'skillgate-listen' })
    client.on('error', (error) => this.#onError?.('postgres-listen', error))
    client.on('notification', (message) => {
      if (message.channel === channel) onNotify()
    })
    try {
      await client.connect()
      await client.query(`LISTEN "${channel.replace(/"/g, '""')}"`)
    } catch (error) {
      await client.end().catch(() => undefined)
      throw asStorageError(error, 'listening for changes')
    }
    this.#listeners.add(client)
    return async () => {
      this.#listeners.delete(client)
      await client.end().catch(() => undefined)
    }
  }

  /** Runs `fn` with a client in a transaction; rolls back on any error and rethrows it as a StorageError. */
  async tx<T>(what: string, fn: (client: Queryable) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    this.#assertOpen()
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw asStorageError(error, what)
    }
    // node-postgres emits 'error' on a checked-out client whose connection ends between two
    // queries; without a listener that is an uncaught exception.
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
      const broken = lost !== undefined || (await client.query('ROLLBACK').then(() => false, () => true))
      client.off('error', onError)
      client.release(broken)
      throw asStorageError(error, what)
    }
  }

  #transaction<T>(what: string, body: Body<T>, begin: string): Promise<T> {
    return this.tx(what, (client) => runAsync(body(this.dialect), (op) => this.#execute(client, op)), begin)
  }

  async #execute(client: Queryable, op: SqlOp): Promise<unknown> {
    if (op.kind === 'exec') return client.query(op.sql)
    const result = await client.query(this.#number(op.sql), op.params as unknown[])
    if (op.kind === 'all') return result.rows
    if (op.kind === 'get') return result.rows[0]
    return result.rowCount ?? 0
  }

  /** `?` → `$1`, `$2`, … (cached: the same few statements run over and over). */
  #number(sql: string): string {
    let numbered = this.#numbered.get(sql)
    if (numbered === undefined) {
      let n = 0
      numbered = sql.replace(/\?/g, () => `$${++n}`)
      this.#numbered.set(sql, numbered)
    }
    return numbered
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageError('unavailable', 'the PostgreSQL store is closed')
  }
}
