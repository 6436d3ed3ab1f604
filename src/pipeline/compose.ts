import type { RequestContext } from './context.js'
import type { Next, Stage } from './stage.js'

/**
 * Runs the stages in order (hono `compose`): each receives `next`, which runs the rest. Errors
 * propagate to the caller, which turns them into a response; nothing here writes HTTP.
 */
export function compose(stages: readonly Stage[]): (ctx: RequestContext) => Promise<void> {
  return function runPipeline(ctx) {
    let last = -1
    const dispatch = async (index: number): Promise<void> => {
      if (index <= last) throw new Error(`stage ${stages[last]?.name ?? index} called next() twice`)
      last = index
      const stage = stages[index]
      if (!stage) return
      const next: Next = () => dispatch(index + 1)
      await stage(ctx, next)
    }
    return dispatch(0)
  }
}
