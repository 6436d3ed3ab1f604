import { StorageError } from './errors.js'
import type { MintedTokenSource, MintedTokenStore } from './ports-minted.js'
import { checkTime, readJson } from './shared.js'
import type { SqlDb } from './sql/db.js'
import { get, run } from './sql/step.js'

/** One purge of expired rows every this many `put`s: amortised, no timer. */
const PURGE_EVERY = 256

/**
 * The sources of minted gateway tokens in the store (issue #13 item 1), so a token minted by one
 * replica or worker is honoured by every other one. Claims are stored as JSON text.
 */
export class SqlMintedTokenStore implements MintedTokenStore {
  #puts = 0

  constructor(private readonly db: SqlDb, private readonly now: () => Date) {}

  async put(jti: string, source: MintedTokenSource, expiresAt: Date): Promise<void> {
    checkTime(expiresAt, 'expiresAt')
    if (jti === '') throw new StorageError('invalid', 'jti must not be empty')
    const claims = JSON.stringify(source.claims)
    if (++this.#puts % PURGE_EVERY === 0) await this.purge()
    await this.db.single('recording a minted token', 'write', () =>
      run(
        `INSERT INTO minted_tokens (jti, issuer_id, claims, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (jti) DO UPDATE SET issuer_id = excluded.issuer_id, claims = excluded.claims, expires_at = excluded.expires_at`,
        [jti, source.issuerId, claims, expiresAt.getTime()],
      ),
    )
  }

  async get(jti: string): Promise<MintedTokenSource | undefined> {
    const now = this.now().getTime()
    const row = await this.db.single('reading a minted token', 'read', () =>
      get<{ issuer_id: string; claims: string }>('SELECT issuer_id, claims FROM minted_tokens WHERE jti = ? AND expires_at > ?', [jti, now]),
    )
    if (row === undefined) return undefined
    const claims = readJson<unknown>(row.claims, 'a minted token source')
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new StorageError('conflict', 'a minted token source is not an object')
    return { issuerId: row.issuer_id, claims: claims as Record<string, unknown> }
  }

  /** Removes expired rows; returns how many. */
  async purge(): Promise<number> {
    const now = this.now().getTime()
    return this.db.single('purging minted tokens', 'write', () => run('DELETE FROM minted_tokens WHERE expires_at <= ?', [now]))
  }
}
