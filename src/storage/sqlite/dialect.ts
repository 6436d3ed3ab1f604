import type { Column, Dialect } from '../sql/db.js'
import { get, nothing, run, type Step } from '../sql/step.js'

/** What SQLite spells its own way: lists travel as JSON text (`json_each`), no row locks, one statement per row. */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  inList: (column) => `${column} IN (SELECT value FROM json_each(?))`,
  list: (values) => JSON.stringify(values),
  listContains: (column) => `EXISTS (SELECT 1 FROM json_each(${column}) AS s WHERE s.value = ?)`,
  jsonMember: (column, member) => `json_extract(${column}, '$.${member}')`,
  readList,
  forUpdate: '',
  lock: () => nothing(),
  *insertMany(table, columns, rows): Step<void> {
    const sql = cached(columns, `insert ${table}`, () => insertInto(table, columns))
    for (const row of rows) yield* run(sql, encode(columns, row))
  },
  *upsertMany<R>(table: string, columns: readonly Column[], conflict: readonly string[], set: string, rows: ReadonlyArray<readonly unknown[]>, returning: string): Step<R[]> {
    const sql = cached(columns, `upsert ${table} ${conflict.join(',')} ${set} ${returning}`, () => `${insertInto(table, columns)} ON CONFLICT (${conflict.join(', ')}) DO UPDATE SET ${set} RETURNING ${returning}`)
    const out: R[] = []
    for (const row of rows) {
      const got = yield* get<R>(sql, encode(columns, row))
      if (got !== undefined) out.push(got)
    }
    return out
  },
  *updateMany(table, key, set, rows, condition): Step<void> {
    const sql = cached(set, `update ${table} ${key.name} ${condition}`, () => `UPDATE ${table} SET ${set.map((c) => `${c.name} = ?`).join(', ')} WHERE ${key.name} = ? AND ${condition}`)
    for (const [id, ...values] of rows) yield* run(sql, [...encode(set, values), id])
  },
  *tableExists(table): Step<boolean> {
    return (yield* get(`SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?`, [table])) !== undefined
  },
  beforeMigrations: () => nothing(),
  notify: () => nothing(),
}

const insertInto = (table: string, columns: readonly Column[]): string =>
  `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`

/**
 * Statement text per column list, built once: the audit's group commit inserts rows on every batch,
 * and rebuilding the same text each time only makes garbage.
 */
const statements = new WeakMap<readonly Column[], Map<string, string>>()

function cached(columns: readonly Column[], key: string, build: () => string): string {
  let byKey = statements.get(columns)
  if (byKey === undefined) statements.set(columns, (byKey = new Map()))
  let sql = byKey.get(key)
  if (sql === undefined) byKey.set(key, (sql = build()))
  return sql
}

function encode(columns: readonly Column[], row: readonly unknown[]): readonly unknown[] {
  if (!columns.some((c) => c.type === 'textlist')) return row
  return row.map((value, i) => (columns[i]?.type === 'textlist' ? JSON.stringify(value) : value))
}

/** A list column is JSON text; an unreadable one is reported, not hidden (verify then flags the record). */
function readList(value: unknown): string[] {
  try {
    const parsed: unknown = JSON.parse(String(value))
    return Array.isArray(parsed) ? parsed.map(String) : []
  } catch {
    return [`<unreadable: ${String(value).slice(0, 40)}>`]
  }
}
