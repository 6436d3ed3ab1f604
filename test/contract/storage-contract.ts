import { afterEach, beforeEach, describe } from 'vitest'
import type { OpenStorageOptions, Storage } from '../../src/storage/ports.js'
import { approvalContract } from './contract-approvals.js'
import { auditContract } from './contract-audit.js'
import { gatewayTokenContract } from './contract-gateway-tokens.js'
import { headsContract } from './contract-heads.js'
import { integrityContract } from './contract-integrity.js'
import { limitsContract } from './contract-limits.js'
import { ownershipContract } from './contract-ownership.js'
import { revocationContract } from './contract-revocations.js'
import { TestClock } from './fixtures.js'

/**
 * One behavioural suite for every storage adapter (style-anchors §14, undici `cacheStoreTests`).
 * An adapter test file supplies `makeEnv`: a fresh, empty store (a new SQLite file, a new
 * PostgreSQL schema) that several Storage instances can open at once, plus raw SQL access so the
 * suite can tamper with rows the way an attacker with database access would.
 */
export interface ContractEnv {
  /** Opens (and migrates) a Storage on this env's store. Closed by `dispose`. */
  open(options?: OpenStorageOptions): Promise<Storage>
  /** Raw SQL with `$1`-style placeholders; returns rows for queries. */
  sql(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>
  dispose(): Promise<void>
}

/** What each contract section receives: the env of the current test and its clock. */
export interface ContractContext {
  env: ContractEnv
  clock: TestClock
  /** Opens a Storage on the env with the test clock. */
  open(options?: OpenStorageOptions): Promise<Storage>
}

export function storageContract(name: string, makeEnv: () => Promise<ContractEnv>): void {
  describe(`storage contract: ${name}`, () => {
    const ctx = {} as ContractContext
    beforeEach(async () => {
      ctx.env = await makeEnv()
      ctx.clock = new TestClock()
      ctx.open = (options = {}) => ctx.env.open({ now: ctx.clock.now, ...options })
    })
    afterEach(async () => {
      await ctx.env.dispose()
    })
    auditContract(ctx)
    integrityContract(ctx)
    headsContract(ctx)
    revocationContract(ctx)
    approvalContract(ctx)
    limitsContract(ctx)
    gatewayTokenContract(ctx)
    ownershipContract(ctx)
  })
}
