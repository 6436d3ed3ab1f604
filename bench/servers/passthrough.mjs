/**
 * The baseline: the least a proxy in front of the Claude API must do. node:http in, an undici Pool out
 * with the gateway's pool settings, bodies streamed both ways, hop-by-hop headers dropped and the
 * client's credential swapped for the upstream key. No auth, no policy, no body inspection.
 */
import { createServer } from 'node:http'
import { pipeline } from 'node:stream/promises'
import { Pool } from 'undici'
import { serveChild } from '../lib/child.mjs'

const hopByHop = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host',
])
const dropRequest = new Set([...hopByHop, 'authorization', 'x-api-key'])

serveChild('pass-through', async () => {
  const upstream = JSON.parse(process.env.BENCH_UPSTREAM ?? '{}')
  // Same options as src/upstream/client.ts builds from the bench config.
  const pool = new Pool(upstream.url, {
    connections: upstream.connections,
    connectTimeout: upstream.connectTimeoutMs,
    headersTimeout: upstream.firstByteTimeoutMs,
    bodyTimeout: upstream.idleTimeoutMs,
    keepAliveTimeout: 30_000,
    pipelining: 1,
  })
  // Same server options as src/http/server.ts.
  const server = createServer({ noDelay: true, keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const abort = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) abort.abort()
    })
    const headers = []
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!dropRequest.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1])
    }
    headers.push('x-api-key', upstream.apiKey)
    const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined
    pool
      .request({ method: req.method, path: req.url, headers, body: hasBody ? req : null, signal: abort.signal })
      .then(async (answer) => {
        const out = {}
        for (const [name, value] of Object.entries(answer.headers)) if (!hopByHop.has(name)) out[name] = value
        res.writeHead(answer.statusCode, out)
        await pipeline(answer.body, res)
      })
      .catch((error) => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'text/plain' })
          res.end(`pass-through: ${error.code ?? error.message}`)
        } else res.destroy()
      })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${server.address().port}`
})
