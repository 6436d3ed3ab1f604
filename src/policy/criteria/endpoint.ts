import type { Criterion } from './criterion.js'

/** `allow.endpoints`: the endpoint the path addresses; an unknown path is never granted. */
export const endpointCriterion: Criterion = {
  name: 'endpoint',
  compile(allow) {
    const endpoints = new Set(allow.endpoints)
    return function checkEndpoint({ endpoint }) {
      if (endpoint === 'unknown' || !endpoints.has(endpoint)) return { ok: false, reasons: [{ code: 'endpoint-not-granted', detail: endpoint }] }
      return { ok: true, reasons: [{ code: 'endpoint-granted', detail: endpoint }] }
    }
  },
}
