/** Reviews and just-in-time grants for rules with `approval.required` (SPEC §2, §4). */
export {
  createApprovals,
  mcpReviewRule,
  type Admission,
  type BoundAdmitInput,
  type AdmitInput,
  type ApprovalEvent,
  type Approvals,
  type ApprovalsDeps,
  type Approver,
  type DecideInput,
  type GateResult,
} from './approvals.js'
export { ciSource, type CiSource } from './ci-source.js'
export { ApprovalError, type ApprovalErrorCode } from './errors.js'
export { requestFingerprint, type FingerprintEntry } from './fingerprint.js'
export { ReviewWatcher, type ReviewWatcherOptions } from './review-watcher.js'
export { approvalSettings, defaultApproverRole, type ApprovalConfig, type ApprovalRule, type ApprovalSettings } from './settings.js'
export type { WaitOptions, WaitOutcome } from './wait.js'
