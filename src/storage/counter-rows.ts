import { StorageError } from './errors.js'
import type { CounterWindow, SlotLease } from './ports-limits.js'

/** What both adapters share for counters and slots: window arithmetic and input checks. */

export const minuteMs = 60_000
export const dayMs = 86_400_000

/** Start and end (ms) of the fixed window containing `at`; epoch ms are UTC, so days start at UTC midnight. */
export function windowBounds(window: CounterWindow, at: number): { start: number; end: number } {
  const size = window === 'minute' ? minuteMs : window === 'day' ? dayMs : Number.NaN
  if (Number.isNaN(size)) throw new StorageError('invalid', 'window must be minute or day')
  const start = Math.floor(at / size) * size
  return { start, end: start + size }
}

export function checkCounterKey(key: string): void {
  if (typeof key !== 'string' || key === '' || key.length > 512) throw new StorageError('invalid', 'counter key must be 1 to 512 characters')
}

export function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new StorageError('invalid', 'amount must be a non-negative integer')
}

export function checkSlotArgs(max: number, ttlMs: number): void {
  if (!Number.isSafeInteger(max) || max < 1) throw new StorageError('invalid', 'max must be a positive integer')
  if (!Number.isSafeInteger(ttlMs) || ttlMs < 1) throw new StorageError('invalid', 'ttlMs must be a positive integer')
}

export function checkLease(lease: SlotLease): void {
  if (typeof lease?.key !== 'string' || typeof lease.id !== 'string') throw new StorageError('invalid', 'not a slot lease')
}
