import { GatewayError } from '../errors/gateway-error.js'
import { bodyReferences, deletedObject, judgeOwnership, pathChecks, type OwnedKind } from '../ownership/index.js'
import type { OwnershipCheck } from '../ownership/judge.js'
import type { Decision } from '../policy/decision.js'
import type { Reason } from '../policy/reasons.js'
import type { Stage } from '../pipeline/stage.js'
import type { OwnedObject, Ownership, OwnershipStore } from '../storage/ports-ownership.js'
import type { RequestContext } from '../pipeline/context.js'

/**
 * Before anything goes upstream: every object the request addresses (`/v1/messages/batches/{id}…`,
 * `/v1/files/{id}…`, skill management under `/v1/skills/{id}…`, Managed Agents objects under
 * `/v1/agents/{id}…`, `/v1/sessions/{id}…`, …) and every object its body cites (files; the agent,
 * environment, vaults and memory stores of a session or deployment) must belong to the caller's
 * principal. Anything else is 404 `not_found_error`, the same answer for another principal's object
 * and for one this gateway never saw, so a client learns nothing about objects that are not its
 * own; the audit keeps which it was. Owners are read from the store on every call (one indexed
 * query per kind), so a replica sees an object the moment another one recorded it.
 */
export const checkOwnership = (owners: Pick<OwnershipStore, 'owners' | 'forget'>, namedSkills: (rule: string | undefined) => ReadonlySet<string>): Stage =>
  async function checkOwnership(ctx, next) {
    const decision = ctx.decision
    if (decision?.principal === undefined) throw new GatewayError('GW_INTERNAL', { detail: 'check-ownership ran before authorize' })
    const checks: OwnershipCheck[] = [...pathChecks(ctx.method, ctx.path).map((c) => ({ ...c, at: 'path' })), ...bodyReferences(ctx.endpoint?.name, ctx.json)]
    if (checks.length === 0) return next()
    const known = await lookUp(owners, checks)
    const verdict = judgeOwnership(checks, decision.principal, namedSkills(decision.rule), (kind, id) => known.get(kind)?.get(id)?.principal)
    if (!verdict.ok) {
      const { kind, id, at } = verdict.object
      const named = `${kind.replace('_', ' ')} ${id === '' ? '(missing or malformed)' : id}`
      const reason: Reason = { code: verdict.code, detail: at === 'path' ? named : `${named} in ${at}` }
      ctx.decision = refused(decision, reason)
      throw new GatewayError('GW_OBJECT_NOT_FOUND', { publicDetail: clip(named), detail: JSON.stringify(reason) })
    }
    const deleted = deletedObject(ctx.method, ctx.path)
    await next()
    const status = ctx.response?.status ?? 0
    if (deleted !== undefined && status >= 200 && status < 300) await forget(owners, deleted, ctx.log)
  }

/** The answer is out already: a row that could not be dropped only stays behind, as before deletes were tracked. */
async function forget(owners: Pick<OwnershipStore, 'forget'>, object: OwnedObject, log: RequestContext['log']): Promise<void> {
  try {
    await owners.forget(object)
  } catch (error) {
    log.warn({ kind: object.kind, id: object.id, detail: (error as Error).message }, 'owner of a deleted object not forgotten')
  }
}

/** One query per kind; a store that cannot answer refuses the request (fail closed). */
async function lookUp(owners: Pick<OwnershipStore, 'owners'>, checks: readonly OwnershipCheck[]): Promise<Map<OwnedKind, ReadonlyMap<string, Ownership>>> {
  const idsByKind = new Map<OwnedKind, string[]>()
  for (const { kind, id } of checks) {
    const ids = idsByKind.get(kind)
    if (ids === undefined) idsByKind.set(kind, [id])
    else ids.push(id)
  }
  try {
    const entries = await Promise.all([...idsByKind].map(async ([kind, ids]) => [kind, await owners.owners(kind, ids)] as const))
    return new Map(entries)
  } catch (error) {
    throw new GatewayError('GW_OWNERSHIP_UNAVAILABLE', { detail: (error as Error).message, cause: error })
  }
}

/** The allow decision turned into the refusal the audit records, with the ownership reason last. */
function refused(decision: Decision, reason: Reason): Decision {
  return { ...decision, effect: 'deny', reasons: [...decision.reasons, reason], deniedBy: reason }
}

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 197)}...` : text)
