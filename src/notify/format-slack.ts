import type { Grant, Review } from '../storage/ports.js'
import type { FormatContext, NotificationEvent, RevocationNotice } from './events.js'
import { reviewUrl } from './format-json.js'

/**
 * Slack incoming-webhook body: `{text, blocks}`. `text` is the plain fallback (notifications,
 * screen readers); blocks show the facts an approver needs and how to act. Every value from a
 * request or an approver is escaped, so a principal or reason cannot inject mentions or links.
 */
export interface SlackMessage {
  readonly text: string
  readonly blocks: readonly SlackBlock[]
}

export type SlackBlock =
  | { readonly type: 'header'; readonly text: { readonly type: 'plain_text'; readonly text: string } }
  | { readonly type: 'section'; readonly text?: Mrkdwn; readonly fields?: readonly Mrkdwn[] }
  | { readonly type: 'context'; readonly elements: readonly Mrkdwn[] }
  | { readonly type: 'actions'; readonly block_id: string; readonly elements: readonly SlackButton[] }

/** A Block Kit button (only in messages sent with a bot token: incoming webhooks cannot receive clicks). */
export interface SlackButton {
  readonly type: 'button'
  readonly action_id: string
  readonly value: string
  readonly text: { readonly type: 'plain_text'; readonly text: string }
  readonly style?: 'primary' | 'danger'
}

interface Mrkdwn {
  readonly type: 'mrkdwn'
  readonly text: string
}

export function formatSlack(event: NotificationEvent, ctx: FormatContext): SlackMessage {
  switch (event.type) {
    case 'review.created':
      return reviewCreated(event.review, ctx)
    case 'review.decided':
      return reviewDecided(event.review, event.grant, event.approverName)
    case 'review.expired':
      return message(`Review ${event.review.id} expired undecided`, 'Review expired', [...who(event.review)], [context(`review ${event.review.id}`)])
    case 'grant.revoked':
      return message(`Grant ${event.grant.id} for ${event.grant.principal} was revoked`, 'Grant revoked', grantFields(event.grant), [context(`grant ${event.grant.id}`)])
    case 'revocation':
      return revocation(event.action, event.revocation)
  }
}

export function reviewCreated(review: Review, ctx: FormatContext): SlackMessage {
  const s = review.summary
  const fields = [
    ...who(review),
    field('Endpoint', code(s.endpoint)),
    field('Model', s.model === null ? '—' : code(s.model)),
    field('Skills', list(s.skills)),
    field('Tools', list(s.tools)),
    field('Requester', code(review.requester.subject)),
    field('Decide before', review.expiresAt.toISOString()),
  ]
  const act = `Approve: ${code(`skillgate reviews approve ${review.id}`)}\nDeny: ${code(`skillgate reviews deny ${review.id}`)}`
  const link = ctx.consoleUrl === undefined ? '' : `\n<${reviewUrl(ctx.consoleUrl, review.id)}|Open in the console>`
  return {
    text: plain(`Approval needed: ${review.principal} asks to use rule ${review.rule} (review ${review.id})`),
    blocks: [header('Approval needed'), { type: 'section', fields }, { type: 'section', text: mrkdwn(act + link) }, context(`review ${review.id} · request ${esc(s.requestId)}`)],
  }
}

export function reviewDecided(review: Review, grant: Grant | null, approverName?: string): SlackMessage {
  const verb = review.state === 'approved' ? 'approved' : 'denied'
  const by = approverName === undefined ? code(review.approver ?? '—') : `${esc(approverName)} (${code(review.approver ?? '—')})`
  const fields = [...who(review), field(verb === 'approved' ? 'Approved by' : 'Denied by', by)]
  if (review.reason !== null) fields.push(field('Reason', esc(review.reason)))
  if (grant !== null) fields.push(field('Grant until', grant.expiresAt.toISOString()), field('Uses', grant.usesLeft === null ? 'unlimited' : String(grant.usesLeft)))
  const title = verb === 'approved' ? 'Request approved' : 'Request denied'
  return message(`Review ${review.id} was ${verb} by ${approverName ?? review.approver ?? 'unknown'}`, title, fields, [context(`review ${review.id}`)])
}

function revocation(action: 'revoked' | 'lifted', r: RevocationNotice): SlackMessage {
  const noun = r.kind === 'principal' ? 'Principal' : r.kind === 'token' ? 'Token' : 'Issuer'
  const title = action === 'revoked' ? `${noun} revoked` : `${noun} revocation lifted`
  const fields = [field(r.kind === 'token' ? 'Issuer' : noun, code(r.subject))]
  if (r.jti) fields.push(field('jti', code(r.jti)))
  if (r.revokedBefore) fields.push(field('Tokens issued before', r.revokedBefore.toISOString()))
  if (r.actor) fields.push(field('By', code(r.actor)))
  if (r.reason) fields.push(field('Reason', esc(r.reason)))
  return message(`${title}: ${r.subject}`, title, fields, [])
}

const who = (review: Review): Mrkdwn[] => [field('Principal', code(review.principal)), field('Rule', code(review.rule))]

function grantFields(grant: Grant): Mrkdwn[] {
  return [field('Principal', code(grant.principal)), field('Rule', code(grant.rule)), field('Revoked by', code(grant.revokedBy ?? '—'))]
}

function message(text: string, title: string, fields: readonly Mrkdwn[], trailer: readonly SlackBlock[]): SlackMessage {
  return { text: plain(text), blocks: [header(title), { type: 'section', fields: fields.slice(0, 10) }, ...trailer] }
}

const header = (text: string): SlackBlock => ({ type: 'header', text: { type: 'plain_text', text: text.slice(0, 150) } })
const context = (text: string): SlackBlock => ({ type: 'context', elements: [mrkdwn(text)] })
const mrkdwn = (text: string): Mrkdwn => ({ type: 'mrkdwn', text: text.slice(0, 3_000) })
const field = (name: string, value: string): Mrkdwn => mrkdwn(`*${name}*\n${value}`.slice(0, 2_000))

/** Slack's three control characters; everything else in mrkdwn is harmless once these are escaped. */
export const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
/** The fallback text is shown as-is, but Slack still parses `<…>` in it. */
const plain = (text: string): string => esc(text).slice(0, 3_000)
const code = (text: string): string => `\`${esc(text).replace(/`/g, "'")}\``

function list(items: readonly string[]): string {
  if (items.length === 0) return '—'
  const shown = items.slice(0, 10).map(code).join(', ')
  return items.length > 10 ? `${shown} +${items.length - 10} more` : shown
}
