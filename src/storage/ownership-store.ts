import { StorageError } from './errors.js'
import { ownedKinds, type OwnedKind, type OwnedObject } from '../ownership/kinds.js'
import type { OwnerRef, Ownership, OwnershipStore } from './ports-ownership.js'
import type { BatchWrites } from './batch-writes.js'
import type { SqlDb } from './sql/db.js'
import { all, get, run } from './sql/step.js'
import type { Stored } from './shared.js'

type OwnershipRow = Stored<Ownership>

const columns = 'kind, id, principal, rule, created_at, assigned_by'
const selected = 'kind, id, principal, rule, created_at AS "createdAt", assigned_by AS "assignedBy"'
/** Bounds one lookup; a request or list page never names more (batch bodies are capped by the body size). */
const maxIds = 10_000
const maxIdLength = 512

/**
 * `owned_objects`: one row per (kind, id). Recording is `INSERT … ON CONFLICT DO NOTHING`, so two
 * replicas learning the same object race harmlessly and the first owner stays.
 */
export class SqlOwnershipStore implements OwnershipStore {
  constructor(private readonly db: SqlDb, private readonly batch: BatchWrites, private readonly now: () => Date) {}

  async record(objects: readonly OwnedObject[], owner: OwnerRef): Promise<void> {
    if (objects.length === 0) return
    objects.forEach(checkObject)
    checkOwner(owner)
    const now = this.now().getTime()
    // Rides the audit's group commit: durable when this resolves, without a transaction of its own.
    await this.batch.submit('recording object owners', function* () {
      for (const { kind, id } of objects) {
        yield* run(`INSERT INTO owned_objects (${columns}) VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (kind, id) DO NOTHING`, [kind, id, owner.principal, owner.rule, now])
      }
    })
  }

  async owners(kind: OwnedKind, ids: readonly string[]): Promise<ReadonlyMap<string, Ownership>> {
    checkKind(kind)
    const wanted = [...new Set(ids)].filter((id) => id !== '' && id.length <= maxIdLength)
    if (wanted.length === 0) return new Map()
    if (wanted.length > maxIds) throw new StorageError('invalid', `at most ${maxIds} ids per lookup`)
    const rows = await this.db.single('reading object owners', 'read', (d) =>
      all<OwnershipRow>(`SELECT ${selected} FROM owned_objects WHERE kind = ? AND ${d.inList('id', 'text')}`, [kind, d.list(wanted)]),
    )
    return new Map(rows.map((row) => [row.id, fromRow(row)]))
  }

  async assign(object: OwnedObject, owner: OwnerRef, actor: string): Promise<Ownership | undefined> {
    checkObject(object)
    checkOwner(owner)
    const now = this.now().getTime()
    const previous = await this.db.write('assigning an object owner', function* (d) {
      const before = yield* get<OwnershipRow>(`SELECT ${selected} FROM owned_objects WHERE kind = ? AND id = ?${d.forUpdate}`, [object.kind, object.id])
      yield* run(
        `INSERT INTO owned_objects (${columns}) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET principal = excluded.principal, rule = excluded.rule, created_at = excluded.created_at, assigned_by = excluded.assigned_by`,
        [object.kind, object.id, owner.principal, owner.rule, now, actor],
      )
      return before
    })
    return previous === undefined ? undefined : fromRow(previous)
  }

  async forget(object: OwnedObject): Promise<void> {
    checkObject(object)
    // Rides the audit's group commit like `record`.
    await this.batch.submit('forgetting a deleted object', function* () {
      yield* run('DELETE FROM owned_objects WHERE kind = ? AND id = ?', [object.kind, object.id])
    })
  }
}

function fromRow(row: OwnershipRow): Ownership {
  return { ...row, createdAt: new Date(row.createdAt) }
}

function checkKind(kind: string): void {
  if (!(ownedKinds as readonly string[]).includes(kind)) throw new StorageError('invalid', `kind must be one of ${ownedKinds.join(', ')}`)
}

function checkObject(object: OwnedObject): void {
  checkKind(object.kind)
  if (object.id === '' || object.id.length > maxIdLength) throw new StorageError('invalid', `an object id must have 1 to ${maxIdLength} characters`)
}

function checkOwner(owner: OwnerRef): void {
  if (owner.principal === '') throw new StorageError('invalid', 'principal must not be empty')
}
