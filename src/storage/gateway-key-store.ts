import { checkTime, type Stored } from './shared.js'
import type { GatewayKeyRotation, GatewayKeyStore, StoredGatewayKey } from './ports-keys.js'
import type { Dialect, SqlDb } from './sql/db.js'
import { all, run, type Step } from './sql/step.js'

type KeyRow = Stored<StoredGatewayKey>

/** At most this many keys are kept: a rotation never grows the table past it. */
const MAX_KEYS = 8

/**
 * Gateway signing keys (sealed) in the store. A rotation takes the `gateway_keys` lock (a PostgreSQL
 * advisory lock; SQLite's write lock) before it reads the newest key, so replicas that are due at the
 * same moment add one key between them, and every replica then reads the same list.
 */
export class SqlGatewayKeyStore implements GatewayKeyStore {
  constructor(private readonly db: SqlDb, private readonly now: () => Date) {}

  async list(): Promise<StoredGatewayKey[]> {
    return (await this.db.single('reading the gateway signing keys', 'read', () => listRows())).map(fromRow)
  }

  async rotate(rotation: GatewayKeyRotation): Promise<{ added: boolean; keys: StoredGatewayKey[] }> {
    checkTime(rotation.key.createdAt, 'createdAt')
    const now = this.now().getTime()
    return this.db.write('rotating the gateway signing key', function* (d) {
      yield* d.lock('gateway_keys', 'rotate')
      const rows = yield* listRows()
      const newest = rows[0]
      const due = rotation.onlyIfNewestBefore === undefined || newest === undefined || newest.createdAt < rotation.onlyIfNewestBefore.getTime()
      if (!due) return { added: false, keys: rows.map(fromRow) }
      const { kid, createdAt, sealed } = rotation.key
      yield* run('INSERT INTO gateway_keys (kid, created_at, sealed) VALUES (?, ?, ?)', [kid, createdAt.getTime(), sealed])
      const next = [{ kid, createdAt: createdAt.getTime(), sealed }, ...rows]
      const kept = rotation.revokeOthers === true ? next.slice(0, 1) : retained(next, rotation.retainMs, now)
      yield* dropAllBut(d, kept.map((row) => row.kid))
      return { added: true, keys: kept.map(fromRow) }
    })
  }

  async seed(keys: readonly StoredGatewayKey[]): Promise<StoredGatewayKey[]> {
    for (const key of keys) checkTime(key.createdAt, 'createdAt')
    return this.db.write('importing the gateway signing keys', function* (d) {
      yield* d.lock('gateway_keys', 'rotate')
      const rows = yield* listRows()
      if (rows.length > 0) return rows.map(fromRow)
      for (const key of keys) yield* run('INSERT INTO gateway_keys (kid, created_at, sealed) VALUES (?, ?, ?)', [key.kid, key.createdAt.getTime(), key.sealed])
      return (yield* listRows()).map(fromRow)
    })
  }
}

function listRows(): Step<KeyRow[]> {
  return all<KeyRow>('SELECT kid, created_at AS "createdAt", sealed FROM gateway_keys ORDER BY created_at DESC, kid')
}

/** Key i ≥ 1 signed tokens until key i−1 was created: it is kept until those tokens have expired. */
function retained(rows: readonly KeyRow[], retainMs: number, now: number): KeyRow[] {
  return rows.filter((_, i) => i === 0 || now < (rows[i - 1] as KeyRow).createdAt + retainMs).slice(0, MAX_KEYS)
}

function* dropAllBut(d: Dialect, kids: readonly string[]): Step<void> {
  yield* run(`DELETE FROM gateway_keys WHERE NOT (${d.inList('kid', 'text')})`, [d.list(kids)])
}

function fromRow(row: KeyRow): StoredGatewayKey {
  return { ...row, createdAt: new Date(row.createdAt) }
}
