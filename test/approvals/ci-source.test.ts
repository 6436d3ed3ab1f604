import { describe, expect, it } from 'vitest'
import { ciSource } from '../../src/approvals/index.js'
import { approvalNote } from '../../src/stages/approve.js'

describe('what an approver sees about the job that asked', () => {
  it('names repository, workflow and run of a GitHub Actions job, with a link to the run', () => {
    const claims = { iss: 'https://token.actions.githubusercontent.com', repository: 'acme/app', workflow: 'release', ref: 'refs/heads/main', run_id: '123456', run_attempt: '2' }
    expect(ciSource(claims)).toEqual({
      repository: 'acme/app',
      workflow: 'release',
      ref: 'refs/heads/main',
      run: '123456 (attempt 2)',
      runUrl: 'https://github.com/acme/app/actions/runs/123456/attempts/2',
    })
  })

  it('links a GitLab pipeline on the token\'s own instance', () => {
    expect(ciSource({ iss: 'https://gitlab.example.com', project_path: 'group/app', pipeline_id: 77 })).toEqual({
      repository: 'group/app',
      run: '77',
      runUrl: 'https://gitlab.example.com/group/app/-/pipelines/77',
    })
  })

  it('gives no link when the claims do not allow a safe one', () => {
    expect(ciSource({ iss: 'https://token.actions.githubusercontent.com', repository: 'acme/../evil', run_id: '1' })?.runUrl).toBeUndefined()
    expect(ciSource({ iss: 'https://other.example', repository: 'acme/app', run_id: '1' })?.runUrl).toBeUndefined()
    expect(ciSource({ iss: 'https://token.actions.githubusercontent.com', repository: 'acme/app', run_id: '1; rm' })?.runUrl).toBeUndefined()
    expect(ciSource({ sub: 'dev:me' })).toBeUndefined()
  })
})

describe('the approval note on the record', () => {
  const review = {
    id: 'rev_1', principal: 'ci:a', rule: 'r', fingerprint: 'f', state: 'denied' as const,
    summary: { endpoint: 'messages', model: null, skills: [], tools: [], requestId: 'req' }, requester: { issuer: 'i', subject: 's' },
    createdAt: new Date(0), expiresAt: new Date(1), decidedAt: new Date(1), approver: 'alice', approverName: null, reason: 'not on a Friday', grantId: null, version: 1,
  }

  it('links a granted call to its review, approver and grant', () => {
    const grant = { id: 'grt_1', principal: 'ci:a', rule: 'r', reviewId: 'rev_0', approver: 'bob', createdAt: new Date(0), expiresAt: new Date(1), usesLeft: 0, revokedAt: null, revokedBy: null }
    expect(approvalNote({ kind: 'granted', grant })).toEqual({ reviewId: 'rev_0', note: { state: 'granted', detail: 'review rev_0 approved by bob; grant grt_1 (0 uses left)' } })
  })

  it('carries the reviewer and their reason for a denial, and the hold\'s end for a pending review', () => {
    expect(approvalNote({ kind: 'denied', review }).note).toEqual({ state: 'denied', detail: 'review rev_1 was denied by alice: "not on a Friday"' })
    expect(approvalNote({ kind: 'denied', review: { ...review, reason: null } }).note.detail).toBe('review rev_1 was denied by alice (no reason given)')
    expect(approvalNote({ kind: 'approval_required', review: { ...review, state: 'pending' }, waited: 'timeout' }).note).toEqual({ state: 'pending', detail: 'review rev_1 is pending (hold ended: timeout)' })
  })
})
