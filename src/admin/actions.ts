import { GatewayError } from '../errors/gateway-error.js'
import type { Actor, AdminAction, AdminApiDeps, Caller, RouteContext } from './types.js'

type Ctx = Pick<RouteContext<unknown, unknown>, 'caller' | 'requestId'>
type Target = Readonly<Record<string, string>>

/**
 * Applies a change in audit order (issue #16): the opening record is committed first (503 and no
 * change when it cannot be), then `apply` runs, then the completion is committed and the completed
 * change goes to `onAdminAction` (log, notifications) with the target `apply` reports.
 */
export async function performAction<T>(
  deps: AdminApiDeps,
  ctx: Ctx,
  action: AdminAction['action'],
  intended: Target,
  reason: string | undefined,
  apply: () => Promise<{ readonly result: T; readonly target: Target }>,
): Promise<T> {
  const opening = eventOf(deps, ctx, action, intended, reason)
  const close = deps.openAdminAction && (await openOrRefuse(deps, opening))
  let applied: { readonly result: T; readonly target: Target }
  try {
    applied = await apply()
  } catch (error) {
    await close?.({ ok: false }).catch(() => undefined)
    throw error
  }
  // The change has happened: a completion that cannot be written leaves the record open (later
  // marked interrupted), which the caller cannot fix by retrying.
  await close?.({ ok: true }).catch((error: unknown) => deps.logger.error({ reqId: ctx.requestId, action, detail: (error as Error).message }, 'admin action completion not recorded'))
  await notify(deps, { ...opening, target: applied.target, ...(close ? { audited: true } : {}) })
  return applied.result
}

async function openOrRefuse(deps: AdminApiDeps, event: AdminAction): Promise<(outcome: { readonly ok: boolean }) => Promise<void>> {
  try {
    return await (deps.openAdminAction as NonNullable<AdminApiDeps['openAdminAction']>)(event)
  } catch (error) {
    throw new GatewayError('GW_ADMIN_AUDIT_UNAVAILABLE', { detail: (error as Error).message, cause: error })
  }
}

async function notify(deps: AdminApiDeps, event: AdminAction): Promise<void> {
  if (!deps.onAdminAction) return
  try {
    await deps.onAdminAction(event)
  } catch (error) {
    deps.logger.error({ reqId: event.requestId, action: event.action, detail: (error as Error).message }, 'admin action listener failed')
  }
}

function eventOf(deps: AdminApiDeps, ctx: Ctx, action: AdminAction['action'], target: Target, reason: string | undefined): AdminAction {
  return {
    action,
    actor: actorOf(ctx.caller),
    requestId: ctx.requestId,
    at: now(deps),
    target,
    ...(reason === undefined ? {} : { reason }),
  }
}

export const now = (deps: AdminApiDeps): Date => deps.now?.() ?? new Date()

/** The caller as recorded: identity fields only, the unset ones left out. */
export function actorOf(caller: Caller): Actor {
  const { name, email, issuer, subject } = caller
  return {
    kind: caller.kind,
    id: caller.id,
    ...(name === undefined ? {} : { name }),
    ...(email === undefined ? {} : { email }),
    ...(issuer === undefined ? {} : { issuer }),
    ...(subject === undefined ? {} : { subject }),
  }
}
