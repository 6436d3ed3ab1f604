import type { Column, ColumnType, Dialect } from '../sql/db.js'
import { all, get, run, type Step } from '../sql/step.js'

/**
 * What PostgreSQL spells its own way: lists are arrays (`= ANY`, `@>`), rows are locked with
 * `FOR UPDATE` or an advisory lock, and a batch is one `unnest` statement (one round trip).
 */
export function postgresDialect(schema: string | undefined): Dialect {
  return {
    ...shared,
    beforeMigrations: () => migrationLock(schema),
    *notify(topic): Step<void> {
      yield* get('SELECT pg_notify(?, \'\') AS notified', [notifyChannel(topic, schema)])
    },
  }
}

/** One channel per topic and schema, so stores in different schemas of one database stay apart. */
export function notifyChannel(topic: string, schema: string | undefined): string {
  return `skillgate:${schema ?? 'public'}:${topic}`.slice(0, 63)
}

const shared: Omit<Dialect, 'beforeMigrations' | 'notify'> = {
  name: 'postgres',
  inList: (column, type) => `${column} = ANY(?::${type}[])`,
  list: (values) => values,
  listContains: (column) => `${column} @> ARRAY[?::text]`,
  jsonMember: (column, member) => `(${column}::jsonb ->> '${member}')`,
  readList: (value) => (Array.isArray(value) ? value.map(String) : []),
  forUpdate: ' FOR UPDATE',
  *lock(scope, key): Step<void> {
    // Keyed by schema too, so stores in different schemas of one database do not wait for each other.
    yield* get(`SELECT pg_advisory_xact_lock(hashtext('skillgate:' || ?::text || ':' || COALESCE(current_schema(), '') || ':' || ?::text)) AS locked`, [scope, key])
  },
  *insertMany(table, columns, rows): Step<void> {
    if (rows.length === 0) return
    const names = columns.map((c) => c.name).join(', ')
    const values = columns.map((c) => (c.type === 'textlist' ? `ARRAY(SELECT jsonb_array_elements_text(u.${c.name}::jsonb))` : `u.${c.name}`))
    yield* run(`INSERT INTO ${table} (${names}) SELECT ${values.join(', ')} FROM ${unnest(columns)}`, arrays(columns, rows))
  },
  *upsertMany<R>(table: string, columns: readonly Column[], conflict: readonly string[], set: string, rows: ReadonlyArray<readonly unknown[]>, returning: string): Step<R[]> {
    if (rows.length === 0) return []
    const names = columns.map((c) => c.name).join(', ')
    const sql = `INSERT INTO ${table} (${names}) SELECT ${names} FROM ${unnest(columns)} ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET ${set} RETURNING ${returning}`
    return yield* all<R>(sql, arrays(columns, rows))
  },
  *updateMany(table, key, set, rows, condition): Step<void> {
    if (rows.length === 0) return
    const columns = [key, ...set]
    const assignments = set.map((c) => `${c.name} = u.${c.name}`).join(', ')
    yield* run(`UPDATE ${table} SET ${assignments} FROM ${unnest(columns)} WHERE ${table}.${key.name} = u.${key.name} AND ${condition}`, arrays(columns, rows))
  },
  *tableExists(table): Step<boolean> {
    return (yield* get<{ t: string | null }>('SELECT to_regclass(?::text)::text AS t', [table]))?.t != null
  },
}

/** Replicas starting together migrate once; the others wait here, then find nothing to do. */
function* migrationLock(schema: string | undefined): Step<void> {
  // Keyed by schema so stores in different schemas of one database do not wait for each other.
  yield* get(`SELECT pg_advisory_xact_lock(hashtext('skillgate:migrate:' || COALESCE(?::text, current_schema(), ''))) AS locked`, [schema ?? null])
  // The schema name was checked to be a plain identifier by openStorage.
  if (schema !== undefined) yield* run(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
}

/** textlists travel as JSON text: unnest cannot take an array of arrays of different lengths. */
const arrayType: Record<ColumnType, string> = { int8: 'int8[]', text: 'text[]', textlist: 'text[]' }

function unnest(columns: readonly Column[]): string {
  return `unnest(${columns.map((c) => `?::${arrayType[c.type]}`).join(', ')}) AS u(${columns.map((c) => c.name).join(', ')})`
}

function arrays(columns: readonly Column[], rows: ReadonlyArray<readonly unknown[]>): unknown[][] {
  return columns.map((c, i) => rows.map((row) => (c.type === 'textlist' ? JSON.stringify(row[i]) : row[i])))
}
