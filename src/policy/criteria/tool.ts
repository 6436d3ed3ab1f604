import { compileGlob } from '../glob.js'
import type { Reason } from '../reasons.js'
import { listDetail, nameDetail, nothingToCheck, verdict, type Criterion } from './criterion.js'

/**
 * `allow.tools`: every entry of `tools` matches a glob. Server and Anthropic-defined tools are named
 * by `type` (`code_execution_20250825`, `web_search_*`, `mcp_toolset`, `bash_20250124`), client tools
 * as `client:NAME`; absent `allow.tools` grants none.
 */
export const toolCriterion: Criterion = {
  name: 'tool',
  compile(allow) {
    const globs = (allow.tools ?? []).map(compileGlob)
    return function checkTools({ facts }) {
      const used = facts.bodies.flatMap((body) => body.tools.map((tool) => ({ tool, at: body.at })))
      if (used.length === 0) return nothingToCheck
      const denied: Reason[] = used
        .filter(({ tool }) => tool === '' || !globs.some((match) => match(tool)))
        .map(({ tool, at }) => ({ code: 'tool-not-granted', detail: nameDetail(tool, at) }))
      return verdict([{ code: 'tool-granted', detail: listDetail(used.map((u) => u.tool)) }], denied)
    }
  },
}
