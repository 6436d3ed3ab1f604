import type { Actor, AdminAction, AdminApiDeps, Caller, RouteContext } from './types.js'

/**
 * Reports a completed change to `onAdminAction` (audit, notifications). The change has happened;
 * a failing listener is logged and does not turn the response into an error.
 */
export async function reportAction(
  deps: AdminApiDeps,
  ctx: Pick<RouteContext<unknown, unknown>, 'caller' | 'requestId'>,
  action: AdminAction['action'],
  target: Readonly<Record<string, string>>,
  reason?: string,
): Promise<void> {
  if (!deps.onAdminAction) return
  const event: AdminAction = {
    action,
    actor: actorOf(ctx.caller),
    requestId: ctx.requestId,
    at: now(deps),
    target,
    ...(reason === undefined ? {} : { reason }),
  }
  try {
    await deps.onAdminAction(event)
  } catch (error) {
    deps.logger.error({ reqId: ctx.requestId, action, detail: (error as Error).message }, 'admin action listener failed')
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
