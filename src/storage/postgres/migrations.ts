import { schemaMigrations } from '../migrations.js'

/** The schema in PostgreSQL's column types: BIGINT, TEXT[] with a GIN index for skill filters. */
export const postgresMigrations = schemaMigrations({
  int8: 'BIGINT',
  textList: 'TEXT[]',
  listIndex: 'CREATE INDEX audit_records_skills ON audit_records USING GIN (skills);',
  alterChecks: true,
})

export const postgresSchemaVersion = postgresMigrations.length
