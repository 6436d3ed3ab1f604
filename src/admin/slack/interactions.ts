import type { IncomingMessage, ServerResponse } from 'node:http'
import { ApprovalError } from '../../approvals/index.js'
import type { SinkSecret } from '../../audit/sinks/types.js'
import { revealSecret } from '../../audit/sinks/types.js'
import { GatewayError } from '../../errors/gateway-error.js'
import type { SignatureCheck, SlackApprovalChannel, SlackWebApi } from '../../notify/index.js'
import { verifySlackSignature } from '../../notify/index.js'
import { newRequestId } from '../../observability/request-id.js'
import { performAction } from '../actions.js'
import { invalid, sendFailure, toPublicFailure } from '../errors.js'
import { readRawBody, sendJson } from '../http.js'
import type { AdminApiDeps, Caller, SlackApprover } from '../types.js'
import { parseSlackClick, type SlackClick } from './payload.js'

/** One Slack app of `notify:` as the interactions endpoint needs it. */
export interface SlackApp {
  readonly signingSecret: SinkSecret
  /** Slack user id → the person who may decide from Slack. */
  readonly approvers: ReadonlyMap<string, SlackApprover>
  readonly channel: Pick<SlackApprovalChannel, 'remember'>
  readonly api: Pick<SlackWebApi, 'postEphemeral'>
  /**
   * True the first time a verified signature is seen within Slack's window. Shared across reloads
   * and, backed by the store, across replicas: a click delivered twice decides once.
   */
  readonly replays: { firstUse(signature: string, nowSeconds: number): boolean | Promise<boolean> }
}

/** Slack shows anything but a quick 200 as an error to the person who clicked; the body is ignored. */
const accepted = { status: 200, body: undefined } as const
const challenge = { 'www-authenticate': 'Slack-Signature' }
const slackBodyLimit = 256 * 1024

/**
 * `POST /admin/slack/interactions`: an approver clicked Approve or Deny on a review message.
 * In order: signature and timestamp of one configured app (401), replay (401), the payload (400),
 * the clicker mapped to a person of that app's `approvers` (else told so, in Slack), then the same
 * decision as the console's — the rule's approvers roles, self-approval refused in the store's
 * transaction — recorded with the person as the actor. Refusals of the decision itself are told to
 * the clicker as an ephemeral message; the review and its message stay as they were.
 */
export function createSlackInteractions(deps: AdminApiDeps, apps: readonly SlackApp[]) {
  const nowSeconds = () => Math.floor((deps.now?.() ?? new Date()).getTime() / 1000)
  return async function slackInteraction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId()
    try {
      if (apps.length === 0) throw new GatewayError('GW_NOT_FOUND', { publicDetail: 'no Slack app is configured in notify' })
      const body = await readRawBody(req, slackBodyLimit)
      const app = await verifiedApp(apps, req, body, nowSeconds())
      const parsed = parseSlackClick(body)
      if (!parsed.ok) throw invalid(parsed.reason)
      const reply = await decideFromSlack(deps, app, parsed.click, requestId)
      sendJson(res, reply.status, reply.body, requestId)
    } catch (error) {
      const failure = toPublicFailure(error)
      deps.logger.info({ reqId: requestId, code: failure.code, detail: failure.message }, 'slack interaction refused')
      if (!req.readableEnded) req.resume()
      sendFailure(res, failure, requestId)
    }
  }
}

async function verifiedApp(apps: readonly SlackApp[], req: IncomingMessage, body: Buffer, now: number): Promise<SlackApp> {
  const signed = { timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature'), body }
  const checks: SignatureCheck[] = []
  for (const app of apps) {
    const check = verifySlackSignature(revealSecret(app.signingSecret), signed, now)
    if (!check.ok) {
      checks.push(check)
      continue
    }
    if (!(await app.replays.firstUse(signed.signature ?? '', now))) throw unauthenticated('this signed request was already received (replay)')
    return app
  }
  if (checks.some((c) => !c.ok && c.reason === 'stale')) throw unauthenticated('x-slack-request-timestamp is more than 5 minutes from now')
  if (checks.some((c) => !c.ok && c.reason === 'missing')) throw unauthenticated('x-slack-signature and x-slack-request-timestamp are required')
  throw unauthenticated('x-slack-signature does not match any configured Slack app')
}

const unauthenticated = (detail: string) => new GatewayError('GW_AUTHN_INVALID', { publicDetail: detail, headers: challenge })

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return typeof value === 'string' ? value : undefined
}

async function decideFromSlack(deps: AdminApiDeps, app: SlackApp, click: SlackClick, requestId: string) {
  const person = app.approvers.get(click.user)
  if (person === undefined) {
    deps.logger.info({ reqId: requestId, slackUser: click.user, review: click.reviewId }, 'slack click by a user not in approvers')
    await tell(deps, app, click, `You are not an approver of skillgate: Slack user ${click.user} is not in this app's approvers. Nothing was decided.`)
    return accepted
  }
  const caller: Caller = { kind: 'slack', id: `slack:${click.user}`, roles: new Set(person.roles), name: person.name, email: person.email, issuer: person.issuer, subject: person.subject }
  // Learnt before deciding, so the decision's own notification updates this very message.
  if (click.message) app.channel.remember(click.reviewId, click.message)
  try {
    const approver = { id: caller.id, name: person.name, roles: person.roles, issuer: person.issuer, subject: person.subject }
    // Recorded before it takes effect (issue #16), as from the console.
    await performAction(deps, { caller, requestId }, click.decision === 'approved' ? 'review.approve' : 'review.deny', { review: click.reviewId }, undefined, async () => {
      const { review, grant } = await deps.approvals.decide(click.reviewId, { decision: click.decision, approver })
      return { result: undefined, target: { review: review.id, principal: review.principal, rule: review.rule, ...(grant ? { grant: grant.id } : {}) } }
    })
    return accepted
  } catch (error) {
    // A store outage is not the clicker's fault: Slack shows them the 503.
    if (!(error instanceof ApprovalError)) throw error
    deps.logger.info({ reqId: requestId, actor: caller.id, review: click.reviewId, code: error.code }, 'slack decision refused')
    await tell(deps, app, click, `Not decided: ${error.message}.`)
    return accepted
  }
}

/** An ephemeral reply only the clicker sees; a failure to send it is logged (the refusal stands). */
async function tell(deps: AdminApiDeps, app: SlackApp, click: SlackClick, text: string): Promise<void> {
  if (click.message === undefined) return
  await app.api.postEphemeral(click.message.channel, click.user, text).catch((error: unknown) => {
    deps.logger.warn({ detail: (error as Error).message }, 'slack ephemeral reply failed')
  })
}
