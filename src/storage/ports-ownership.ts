import type { OwnedKind, OwnedObject } from '../ownership/kinds.js'

/**
 * Who created each upstream object (issue #12 item 3): batches, files and skills are workspace-wide at
 * Anthropic and containers are usable by any key that names them, so the gateway is the only place
 * that can keep one principal's objects from another. Kept in the store so every worker and replica
 * sees the same owner at once (one indexed lookup per check, no cache). Every method rejects with a
 * `StorageError` when the store cannot be reached: callers refuse the request (fail closed).
 */

export type { OwnedKind, OwnedObject }

export interface Ownership extends OwnedObject {
  readonly principal: string
  /** The rule the creating request ran under; null when assigned by an operator without one. */
  readonly rule: string | null
  readonly createdAt: Date
  /** Who assigned it (`owners assign`); null when learned from an upstream response. */
  readonly assignedBy: string | null
}

export interface OwnerRef {
  readonly principal: string
  readonly rule: string | null
}

export interface OwnershipStore {
  /**
   * Records `owner` for objects an upstream response just created. First writer wins: an object that
   * already has an owner keeps it, so no response can move another principal's object.
   */
  record(objects: readonly OwnedObject[], owner: OwnerRef): Promise<void>
  /** The owners of `ids` of one kind, in one query; ids without an owner are absent from the map. */
  owners(kind: OwnedKind, ids: readonly string[]): Promise<ReadonlyMap<string, Ownership>>
  /**
   * Sets the owner of one object, replacing any earlier one (objects created before the upgrade, or a
   * job that changed principal). Returns the previous ownership.
   */
  assign(object: OwnedObject, owner: OwnerRef, actor: string): Promise<Ownership | undefined>
  /** Drops the owner of an object that was deleted upstream (a no-op when it has none). */
  forget(object: OwnedObject): Promise<void>
}
