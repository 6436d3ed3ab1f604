import { schemaMigrations } from '../migrations.js'

/** The schema in SQLite's column types: 64-bit integers are INTEGER, lists are JSON text. */
export const sqliteMigrations = schemaMigrations({ int8: 'INTEGER', textList: 'TEXT', listIndex: '', alterChecks: false })

export const sqliteSchemaVersion = sqliteMigrations.length
