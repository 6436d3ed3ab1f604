/** The storage layer's public surface: the ports, the opener and the error type. */
export { openStorage } from './open-storage.js'
export { StorageError, type StorageErrorCode } from './errors.js'
export { revocationTokenKey } from './ports.js'
export { ownedKinds } from '../ownership/kinds.js'
export type * from './ports.js'
