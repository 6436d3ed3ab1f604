import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { messageBody, startStack } from './harness.js'

/** `tracing:` exports one span per /v1 request over OTLP/HTTP, without tokens or content. */
describe('OpenTelemetry traces', () => {
  it('exports a span per request with endpoint, rule, decision and status', async () => {
    const received: string[] = []
    const collector = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push(body)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r))
    const otlp = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`
    const stack = await startStack({ configure: (config) => (config.tracing = { otlp: { url: otlp }, serviceName: 'skillgate-test' }) })
    let token = ''
    try {
      token = await stack.mint()
      const ok = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' } })
      expect(ok.status).toBe(200)
      const denied = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { 'content-type': 'application/json' } })
      expect(denied.status).toBe(401)
    } finally {
      await stack.close() // flushes the batch
      collector.close()
    }
    const all = received.join('\n')
    expect(all).toContain('skillgate.request')
    expect(all).toContain('skillgate-test')
    expect(all).toContain('ci-app')
    expect(all).toContain('GW_AUTHN_MISSING')
    expect(all).not.toContain(token.split('.')[2]!)
    expect(all).not.toContain('"hi"')
  })
})
