/** Per-principal request rates, token budgets and concurrent streams (SPEC §2 `limits:`). */
export {
  counterKey,
  createLimiter,
  type Limiter,
  type LimiterOptions,
  type LimitName,
  type LimitsConfig,
  type LimitSubject,
  type LimitVerdict,
  type LimitedRequest,
  type Reservation,
  type Settlement,
  type TokenUsage,
} from './limiter.js'
export { billedTokens } from './reservation.js'
export { openStreamSlot, type StreamSlot, type StreamSlotOptions } from './stream-slot.js'
