import { z } from 'zod'
import { decisionOfAction, type PostedMessage, type SlackDecision } from '../../notify/index.js'

/**
 * A Slack `block_actions` interaction as it arrives at `POST /admin/slack/interactions`: a
 * form-encoded body whose one `payload` field is JSON. Only what a decision needs is read; the
 * rest of Slack's payload (the message as it was, the response URL) is ignored.
 */
export interface SlackClick {
  /** The Slack user who clicked (`U…`). */
  readonly user: string
  readonly decision: SlackDecision
  readonly reviewId: string
  /** The message clicked on, so it can be updated whichever replica posted it. */
  readonly message: PostedMessage | undefined
}

const slackId = z.string().regex(/^[A-Z0-9]{2,40}$/)
const payloadSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: slackId }),
  channel: z.object({ id: slackId }).optional(),
  container: z.object({ message_ts: z.string().regex(/^\d{1,12}\.\d{1,8}$/).optional() }).optional(),
  actions: z
    .array(z.object({ action_id: z.string().max(255), value: z.string().regex(/^rev_[0-9A-Za-z]{1,40}$/).optional() }))
    .min(1)
    .max(1),
})

export type ParsedClick = { readonly ok: true; readonly click: SlackClick } | { readonly ok: false; readonly reason: string }

export function parseSlackClick(body: Buffer): ParsedClick {
  const form = new URLSearchParams(body.toString('utf8'))
  const raw = form.getAll('payload')
  if (raw.length !== 1 || raw[0] === undefined) return { ok: false, reason: 'expected one form field "payload"' }
  let json: unknown
  try {
    json = JSON.parse(raw[0])
  } catch {
    return { ok: false, reason: 'payload is not JSON' }
  }
  const parsed = payloadSchema.safeParse(json)
  if (!parsed.success) return { ok: false, reason: 'not a block_actions payload of a skillgate review' }
  const { user, channel, container, actions } = parsed.data
  const action = actions[0]
  const decision = action && decisionOfAction(action.action_id)
  if (!action?.value || decision === undefined) return { ok: false, reason: 'not a skillgate Approve or Deny button' }
  const ts = container?.message_ts
  const message = channel !== undefined && ts !== undefined ? { channel: channel.id, ts } : undefined
  return { ok: true, click: { user: user.id, decision, reviewId: action.value, message } }
}
