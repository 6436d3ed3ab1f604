/**
 * Why an approver's decision was refused. The admin API maps these to HTTP statuses: `not_found`
 * 404, `not_pending` 409, `self_approval` and `not_approver` 403. Store outages stay
 * `StorageError`s (`unavailable`), so callers can fail closed by code.
 */
export type ApprovalErrorCode = 'not_found' | 'not_pending' | 'self_approval' | 'not_approver'

export class ApprovalError extends Error {
  readonly code: ApprovalErrorCode

  constructor(code: ApprovalErrorCode, message: string) {
    super(message)
    this.name = 'ApprovalError'
    this.code = code
  }
}
