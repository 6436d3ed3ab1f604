import { MOCK_PII } from '../mock-upstream/index.js'
import { adminClient, type AdminClient } from '../cli/remote.js'
import { DEMO_HOLD, DEMO_OTHER_SKILL, DEMO_RULE, DEMO_SKILL } from './demo-config.js'
import type { DemoStack } from './demo-stack.js'
import { printAuditTrail, printIntro } from './narration.js'
import { callClaude, deniedRequest, releaseRequest, type JobReply } from './sample-job.js'

/**
 * The four steps of `skillgate demo` (SPEC §1): a denial, a call held for a human's approval, the
 * approved call's masked stream, and the audit trail with its verified hash chain. Each step prints
 * what happened; the result says whether every step went as the tour expects.
 */

export interface TourOptions {
  /** Approve the review from the tour itself instead of waiting for a human. */
  readonly autoApprove: boolean
  readonly write: (text: string) => void
  readonly signal?: AbortSignal
}

export interface TourResult {
  readonly ok: boolean
  /** The audit record of the approved, masked stream (for the console's replay link). */
  readonly streamRecordId: string | null
}

/** The job's identity, as a release workflow of acme/app would present it. */
const jobClaims = { sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', workflow: 'release', ref: 'refs/heads/main', run_id: '4242' }

export async function runTour(stack: DemoStack, options: TourOptions): Promise<TourResult> {
  const { write } = options
  const url = stack.gateway.url
  const api = adminClient({ url, token: stack.files.consoleToken })
  printIntro(stack, write)
  const token = await stack.issuer.mint(jobClaims, 900)
  write(`The sample CI job (release workflow of acme/app) got a workload token from the local issuer\n(sub ${jobClaims.sub}) and uses it as its API key.\n\n`)

  const denied = await stepDenied(url, token, write)
  const held = await stepHeld(stack, api, token, options)
  const masked = held.reply ? stepMasked(held.reply, write) : false
  const verified = await printAuditTrail(api, write)
  if (held.reply?.requestId) write(`  Replay the stream: ${url}/ui/#/audit/${held.reply.requestId}\n    or: SKILLGATE_URL=${url} SKILLGATE_ADMIN_TOKEN=${stack.files.consoleToken} npx skillgate audit replay ${held.reply.requestId}\n`)
  return { ok: denied && held.reply?.status === 200 && masked && verified, streamRecordId: held.reply?.requestId ?? null }
}

async function stepDenied(url: string, token: string, write: (text: string) => void): Promise<boolean> {
  write(`Step 1/4  A request the policy does not allow\n`)
  write(`  → POST /v1/messages with skill ${DEMO_OTHER_SKILL}; rule ${DEMO_RULE} grants only ${DEMO_SKILL.alias} (${DEMO_SKILL.type}:${DEMO_SKILL.id})\n`)
  const reply = await callClaude(url, token, deniedRequest())
  if (reply.status === 403) {
    write(`  ✗ denied: ${reply.status} ${reply.error?.type}: ${reply.error?.message}\n  Nothing was sent upstream; the denial is in the audit.\n\n`)
    return true
  }
  write(`  ! expected a 403, got ${reply.status}\n\n`)
  return false
}

async function stepHeld(stack: DemoStack, api: AdminClient, token: string, options: TourOptions): Promise<{ reply: JobReply | null }> {
  const { write } = options
  const url = stack.gateway.url
  write(`Step 2/4  A skill call that needs a human's approval\n`)
  write(`  → POST /v1/messages (stream) with skill ${DEMO_SKILL.alias} and code execution; rule ${DEMO_RULE} requires approval\n`)
  const lines: string[] = []
  // The released stream can arrive before step 2 is printed (the approval's answer races it).
  const later = gatedWriter(write)
  let started = false
  let answered = false
  const step3 = () => {
    if (!answered) later.write(`Step 3/4  The answer streams back through the gateway, masked\n`)
    answered = true
  }
  const call = callClaude(url, token, releaseRequest(), {
    ...(options.signal ? { signal: options.signal } : {}),
    onResponse: step3,
    onBlock: (type, name) => lines.push(`[${type}${name ? ` ${name}` : ''}]`),
    onText: (text) => {
      if (!started) later.write('  │ ')
      started = true
      later.write(text)
    },
  })
  const reviewId = await waitForReview(api, call, options.signal)
  if (reviewId) {
    write(`  ⏸ held for approval: the job's connection stays open for up to ${DEMO_HOLD}\n`)
    write(`    review   ${reviewId}\n    console  ${url}/ui/#/reviews/${reviewId}\n`)
    write(`    CLI      SKILLGATE_URL=${url} SKILLGATE_ADMIN_TOKEN=${stack.files.consoleToken} npx skillgate reviews approve ${reviewId}\n`)
    if (options.autoApprove) {
      const { review } = await api.approve(reviewId, 'approved by skillgate demo --auto-approve')
      write(`  ✔ approved by ${review.approver} (--auto-approve)\n\n`)
    } else {
      write(`  … waiting for your decision in the console or with the CLI command above\n\n`)
    }
  }
  later.open()
  const reply = await call
  step3()
  if (started) write('\n')
  if (lines.length > 0) write(`  (content blocks: ${lines.join(' ')})\n`)
  return { reply }
}

/** Holds writes until `open()`, then passes them through. */
function gatedWriter(write: (text: string) => void): { write(text: string): void; open(): void } {
  let held: string[] | undefined = []
  return {
    write: (text) => (held ? held.push(text) : write(text)),
    open() {
      for (const text of held ?? []) write(text)
      held = undefined
    },
  }
}

/** The review the held call opened; null when the call ended before one appeared. */
async function waitForReview(api: AdminClient, call: Promise<JobReply>, signal: AbortSignal | undefined): Promise<string | null> {
  let ended = false
  void call.then(
    () => (ended = true),
    () => (ended = true),
  )
  while (!ended && !signal?.aborted) {
    const { reviews } = await api.reviews({ state: 'pending', rule: DEMO_RULE, limit: 1 })
    const found = reviews[0]
    if (found) return found.id
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return null
}

function stepMasked(reply: JobReply, write: (text: string) => void): boolean {
  if (reply.status !== 200) {
    write(`  ✗ the call ended with ${reply.status} ${reply.error?.type ?? ''}: ${reply.error?.message ?? ''}\n\n`)
    return false
  }
  const planted = Object.entries(MOCK_PII)
  const leaked = planted.filter(([, value]) => reply.text.includes(value))
  const markers = [...new Set(reply.text.match(/\[REDACTED:[a-z0-9-]+\]/g) ?? [])]
  if (reply.error) write(`  ! the stream ended with an error: ${reply.error.message}\n`)
  if (leaked.length > 0) {
    write(`  ✗ ${leaked.length} planted secret(s) reached the job: ${leaked.map(([k]) => k).join(', ')}\n\n`)
    return false
  }
  write(`  ✔ 200, streamed. The mock upstream planted ${planted.length} fake secrets in the answer; none reached the job.\n`)
  write(`    The gateway masked them while streaming: ${markers.join(' ')}\n\n`)
  return markers.length > 0 && reply.error === null
}
