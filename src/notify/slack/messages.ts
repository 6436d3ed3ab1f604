import type { Grant, Review } from '../../storage/ports.js'
import type { FormatContext } from '../events.js'
import { reviewCreated, reviewDecided, type SlackBlock, type SlackMessage } from '../format-slack.js'

/** The `action_id`s of the two buttons; `POST /admin/slack/interactions` accepts only these. */
export const slackActions = { approve: 'skillgate.review.approve', deny: 'skillgate.review.deny' } as const
export type SlackDecision = 'approved' | 'denied'

export function decisionOfAction(actionId: string): SlackDecision | undefined {
  if (actionId === slackActions.approve) return 'approved'
  if (actionId === slackActions.deny) return 'denied'
  return undefined
}

/** The review to decide, with Approve and Deny buttons under its facts (the CLI hint stays for people outside Slack). */
export function approvalRequest(review: Review, ctx: FormatContext): SlackMessage {
  const base = reviewCreated(review, ctx)
  const buttons: SlackBlock = {
    type: 'actions',
    // One block id per review: Slack echoes it, and a click on a stale copy still names its review.
    block_id: `skillgate:${review.id}`,
    elements: [
      { type: 'button', action_id: slackActions.approve, value: review.id, style: 'primary', text: { type: 'plain_text', text: 'Approve' } },
      { type: 'button', action_id: slackActions.deny, value: review.id, style: 'danger', text: { type: 'plain_text', text: 'Deny' } },
    ],
  }
  const [header, facts, ...rest] = base.blocks
  return { text: base.text, blocks: [header, facts, buttons, ...rest].filter((b): b is SlackBlock => b !== undefined) }
}

/** The same message after the decision: no buttons, and who decided (the console's decisions too). */
export function decidedMessage(review: Review, grant: Grant | null, approverName?: string): SlackMessage {
  return reviewDecided(review, grant, approverName)
}
