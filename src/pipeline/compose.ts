import type { RequestContext } from './context.js'
import type { Next, Stage } from './stage.js'

/**
 * Runs the stages in order (hono `compose`): each receives `next`, which runs the rest. Errors
 * propagate to the caller, which turns them into a response; nothing here writes HTTP.
 */
export function compose(stages: readonly Stage[]): (ctx: RequestContext) => Promise<void> {
  return function runPipeline(ctx) {
    let last = -1
    // Not `async`: each stage's own promise is returned as it is, not wrapped in another one (two
    // dozen stages run per request); a stage that throws synchronously still rejects.
    const dispatch = (index: number): Promise<void> => {
      if (index <= last) return Promise.reject(new Error(`stage ${stages[last]?.name ?? index} called next() twice`))
      last = index
      const stage = stages[index]
      if (!stage) return Promise.resolve()
      const next: Next = () => dispatch(index + 1)
      try {
        return stage(ctx, next)
      } catch (error) {
        return Promise.reject(error)
      }
    }
    return dispatch(0)
  }
}
