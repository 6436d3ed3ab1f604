import { adminClientFromEnv, AdminClientError, type AdminClient } from '../remote.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../usage-error.js'

const reviewsHelp = `Usage: skillgate reviews <command> [--url URL] [--json]

  list [--state pending|approved|denied|expired|all] [--principal P] [--rule R] [--limit N]
                                 (default: every state, like --state all)
  show ID
  approve ID [--reason TEXT]     approve: creates a time-boxed grant; a held request goes through
  deny ID [--reason TEXT]

Talks to the running gateway's admin API: --url or $SKILLGATE_URL, with an admin token with the
approver role in $SKILLGATE_ADMIN_TOKEN. The workload that asked can never approve itself.
`

const grantsHelp = `Usage: skillgate grants <command> [--url URL] [--json]

  list [--principal P] [--rule R] [--active] [--limit N]
  revoke ID                      end a just-in-time grant before it expires

Talks to the running gateway's admin API: --url or $SKILLGATE_URL, token in $SKILLGATE_ADMIN_TOKEN.
`

const options = {
  url: { type: 'string' },
  state: { type: 'string' },
  principal: { type: 'string' },
  rule: { type: 'string' },
  limit: { type: 'string' },
  reason: { type: 'string' },
  active: { type: 'boolean' },
  json: { type: 'boolean' },
} as const

function client(url: string | undefined): AdminClient {
  const found = adminClientFromEnv(url)
  if (!found) throw new UsageError('this command talks to a running gateway: pass --url or set SKILLGATE_URL (and SKILLGATE_ADMIN_TOKEN)')
  return found
}

/** Only the flags that were given (exactOptionalPropertyTypes: absent, never undefined). */
function defined<T extends Record<string, unknown>>(object: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> }
}

const print = (json: boolean | undefined, data: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`)

export async function runReviewsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') return (process.stdout.write(reviewsHelp), sub === undefined ? 2 : 0)
  const { values, positionals } = parseCommandArgs(rest, options, true)
  if (values.help) return (process.stdout.write(reviewsHelp), 0)
  const api = client(values.url)
  return withApiErrors(async () => {
    if (sub === 'list') {
      const state = reviewState(values.state)
      const { reviews } = await api.reviews(defined({ state, principal: values.principal, rule: values.rule, limit: values.limit ? Number(values.limit) : undefined }))
      const lines = reviews.map((r) => `${r.id}  ${String(r.state).padEnd(8)} ${r.principal}  ${r.rule}  ${r.summary.endpoint}${r.summary.model ? ` ${r.summary.model}` : ''}  ${r.createdAt}${sourceText(r.summary.source)}`)
      print(values.json, reviews, [...lines, `${reviews.length} review(s)`].join('\n'))
      return 0
    }
    const id = positionals[0]
    if (!id) throw new UsageError(`reviews ${sub} needs a review id`)
    if (sub === 'show') {
      const review = await api.review(id)
      print(values.json, review, JSON.stringify(review, null, 2))
      return 0
    }
    if (sub === 'approve') {
      const { review, grant } = await api.approve(id, values.reason)
      print(values.json, { review, grant }, `✔ review ${review.id} approved${grant ? `: grant ${grant.id} for ${review.principal} until ${grant.expiresAt}` : ''}`)
      return 0
    }
    if (sub === 'deny') {
      const { review } = await api.deny(id, values.reason)
      print(values.json, { review }, `✔ review ${review.id} denied`)
      return 0
    }
    throw new UsageError(`unknown reviews command "${sub}"`)
  })
}

/** Repository, workflow and run of the job that asked, and the link to its run, on a second line. */
function sourceText(source: { repository?: string; workflow?: string; run?: string; runUrl?: string } | undefined): string {
  if (source === undefined) return ''
  const parts = [source.repository, source.workflow && `workflow ${source.workflow}`, source.run && `run ${source.run}`, source.runUrl].filter(Boolean)
  return parts.length === 0 ? '' : `\n    ${parts.join('  ')}`
}

const reviewStates = ['pending', 'approved', 'denied', 'expired'] as const

/** `all` (what the console offers) means no state filter; anything else unknown is a usage error. */
function reviewState(given: string | undefined): (typeof reviewStates)[number] | undefined {
  if (given === undefined || given === 'all') return undefined
  const state = reviewStates.find((s) => s === given)
  if (state === undefined) throw new UsageError(`--state must be one of ${reviewStates.join(', ')} or all (got "${given}")`)
  return state
}

export async function runGrantsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') return (process.stdout.write(grantsHelp), sub === undefined ? 2 : 0)
  const { values, positionals } = parseCommandArgs(rest, options, true)
  if (values.help) return (process.stdout.write(grantsHelp), 0)
  const api = client(values.url)
  return withApiErrors(async () => {
    if (sub === 'list') {
      const { grants } = await api.grants(defined({ principal: values.principal, rule: values.rule, active: values.active ? true : undefined, limit: values.limit ? Number(values.limit) : undefined }))
      const lines = grants.map((g) => `${g.id}  ${g.principal}  ${g.rule}  until ${g.expiresAt}  uses left ${g.usesLeft ?? '∞'}${g.revokedAt ? '  (revoked)' : ''}`)
      print(values.json, grants, [...lines, `${grants.length} grant(s)`].join('\n'))
      return 0
    }
    if (sub === 'revoke') {
      const id = positionals[0]
      if (!id) throw new UsageError('grants revoke needs a grant id')
      const grant = await api.revokeGrant(id)
      print(values.json, grant, `✔ grant ${grant.id} revoked`)
      return 0
    }
    throw new UsageError(`unknown grants command "${sub}"`)
  })
}

/** API refusals print their actionable message and exit 1 (not a usage error). */
async function withApiErrors(run: () => Promise<number>): Promise<number> {
  try {
    return await run()
  } catch (error) {
    if (!(error instanceof AdminClientError)) throw error
    process.stderr.write(`skillgate: ${error.message}\n`)
    return 1
  }
}
