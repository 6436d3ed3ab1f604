import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { describe, it } from 'vitest'

/**
 * The one place that decides whether PostgreSQL tests run. With `CI=true` an unreachable server is a
 * failure (a green CI run must have exercised PostgreSQL); elsewhere the suite is skipped with a
 * one-line reason, so `npm test` works on a machine without PostgreSQL.
 *
 * The server is `$SKILLGATE_TEST_POSTGRES_URL`, default `postgres://root@127.0.0.1:5432/test`
 * (trust auth). Every test gets its own schema, dropped afterwards, so runs never collide.
 */
export const postgresTestUrl = process.env.SKILLGATE_TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test'

export type PostgresProbe = { readonly available: true } | { readonly available: false; readonly reason: string }

export async function probePostgres(url = postgresTestUrl): Promise<PostgresProbe> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return { available: true }
  } catch (error) {
    const e = error as { code?: string; message?: string }
    return { available: false, reason: `PostgreSQL unreachable at ${new URL(url).host} (${e.code ?? e.message ?? 'error'})` }
  } finally {
    await client.end().catch(() => undefined)
  }
}

/**
 * `describe` for PostgreSQL suites: runs `body` when the server answers, fails under CI=true when it
 * does not, and otherwise registers a skipped suite whose name carries the reason.
 */
export async function describePostgres(name: string, body: () => void): Promise<void> {
  const probe = await probePostgres()
  if (probe.available) {
    describe(name, body)
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs PostgreSQL when CI=true', () => {
        throw new Error(`${probe.reason}; CI=true requires PostgreSQL tests to run`)
      })
    })
  } else {
    console.warn(`skipping ${name}: ${probe.reason}`)
    describe.skip(`${name} (skipped: ${probe.reason})`, body)
  }
}

/** A fresh schema for one test; `drop()` removes it with everything in it. */
export async function createTestSchema(url = postgresTestUrl): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `sg_test_${randomBytes(6).toString('hex')}`
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(`CREATE SCHEMA ${schema}`)
  } finally {
    await client.end()
  }
  return {
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      } finally {
        await c.end()
      }
    },
  }
}
