import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vi } from 'vitest'
import { createApprovals, type ApprovalEvent, type Approvals, type ApprovalsDeps, type AdmitInput, type ApprovalRule } from '../../src/approvals/index.js'
import type { Decision } from '../../src/policy/decision.js'
import { openStorage } from '../../src/storage/open-storage.js'
import type { Storage } from '../../src/storage/ports.js'

/** A fake clock (vitest timers, Date included) and real SQLite stores sharing one file. */
export const start = Date.parse('2030-01-01T09:00:00.000Z')

export function useFakeClock(): void {
  // setImmediate stays real: nothing here schedules with it, and SQLite work must not stall.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: start })
}

export interface Harness {
  readonly storage: Storage
  readonly approvals: Approvals
  readonly events: ApprovalEvent[]
  /** Another replica: its own Storage and Approvals on the same store. */
  replica(): Promise<{ storage: Storage; approvals: Approvals }>
  dispose(): Promise<void>
}

export async function harness(rules: readonly ApprovalRule[], deps: Partial<ApprovalsDeps> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'skillgate-approvals-'))
  const url = `sqlite:${join(dir, 'store.db')}`
  const now = () => new Date(Date.now())
  const opened: Storage[] = []
  const services: Approvals[] = []
  const open = async (): Promise<{ storage: Storage; approvals: Approvals; events: ApprovalEvent[] }> => {
    const storage = await openStorage(url, { now })
    await storage.migrate()
    const events: ApprovalEvent[] = []
    const approvals = createApprovals({ reviews: storage.reviews, grants: storage.grants, rules, sweepMs: 0, onEvent: (e) => events.push(e), ...deps })
    opened.push(storage)
    services.push(approvals)
    return { storage, approvals, events }
  }
  const main = await open()
  return {
    ...main,
    replica: open,
    async dispose() {
      for (const s of services) s.close()
      for (const s of opened) await s.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const allow = (rule: string, principal = 'gha:1234567/42'): Decision => ({ effect: 'allow', rule, principal, reasons: [{ code: 'rule-matched', detail: rule }] })

export function request(rule: string, overrides: { model?: string; requestId?: string; principal?: string } = {}): AdmitInput {
  return {
    decision: allow(rule, overrides.principal),
    requester: { issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:acme/app:ref:refs/heads/main' },
    summary: {
      endpoint: 'messages',
      model: overrides.model ?? 'claude-sonnet-4-5',
      skills: ['custom:skill_01AbCdEf'],
      tools: ['code_execution_20250825'],
      requestId: overrides.requestId ?? 'req_1',
    },
  }
}

export const alice = { id: 'oidc:alice@example.com', roles: ['approver'], issuer: 'https://login.example.com', subject: 'alice' }
