import { webcrypto } from 'node:crypto'
import { CryptoEngine, setEngine } from 'pkijs'

/**
 * pkijs looks its WebCrypto up in a process-wide slot that Node never fills (it has no `self`):
 * this module fills it with Node's webcrypto once, and hands the same engine to every call so no
 * caller depends on the slot.
 */
export const tsaCrypto = new CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof CryptoEngine>[0]['crypto'] })
setEngine('node', tsaCrypto)
