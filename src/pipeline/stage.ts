import type { RequestContext } from './context.js'

export type Next = () => Promise<void>

/** A named async function over the context; it calls `next()` at most once. */
export type Stage = (ctx: RequestContext, next: Next) => Promise<void>
