/**
 * The gateway's own signing keys when they live in the store (issue #14): one row per key, the
 * private JWK sealed by the caller (AES-256-GCM under `gatewayTokens.keyEncryption`), so the store
 * never holds a usable private key. Every replica reads the same rows; one of them rotates.
 */
export interface StoredGatewayKey {
  /** RFC 7638 thumbprint; the JWT `kid`. */
  readonly kid: string
  readonly createdAt: Date
  /** The sealed private JWK (opaque to the store). */
  readonly sealed: string
}

export interface GatewayKeyRotation {
  /** The new key; it becomes the newest. */
  readonly key: StoredGatewayKey
  /**
   * Add it only when the newest stored key was created before this time (or there is none): the
   * check and the insert are one transaction, so of several replicas due at once only one rotates.
   * Undefined: add it unconditionally (`keys rotate --now`).
   */
  readonly onlyIfNewestBefore?: Date
  /** A retired key is dropped once its successor is older than this (its tokens have expired). */
  readonly retainMs: number
  /** Drop every other key: each token they signed stops verifying (emergency revocation). */
  readonly revokeOthers?: boolean
}

export interface GatewayKeyStore {
  /** Every stored key, newest first. */
  list(): Promise<StoredGatewayKey[]>
  /** Rotates as `rotation` says; returns whether the key was added and the keys after it, newest first. */
  rotate(rotation: GatewayKeyRotation): Promise<{ readonly added: boolean; readonly keys: StoredGatewayKey[] }>
  /** Adds `keys` only when the store holds none (importing a key file once); returns the stored keys. */
  seed(keys: readonly StoredGatewayKey[]): Promise<StoredGatewayKey[]>
}
