import { classifyEndpoint } from '../policy/endpoint.js'
import type { Stage } from '../pipeline/stage.js'

/** Names the Claude API endpoint from method and pathname; unknown paths are denied by policy later. */
export const classify = (): Stage =>
  async function classify(ctx, next) {
    ctx.endpoint = classifyEndpoint(ctx.method, ctx.path)
    return next()
  }
