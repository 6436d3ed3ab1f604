// The mock Claude API in its own process. It answers from memory (no delays), so its cost per request
// is small and identical for both targets.
import { startMockUpstream } from '../../dist/mock-upstream/index.js'
import { serveChild } from '../lib/child.mjs'

serveChild('mock upstream', async () => {
  // Keep only the last requests so memory stays flat over a long run.
  const mock = await startMockUpstream({ host: '127.0.0.1', port: 0, maxRecordedRequests: 100 })
  return mock.url
})
