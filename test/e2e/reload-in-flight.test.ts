import { describe, expect, it } from 'vitest'
import { messageBody, startStack } from './harness.js'

describe('reload with a stream in flight', () => {
  it('finishes the stream on the configuration it started with, then closes that configuration', async () => {
    // A long grace: the old configuration must close because its last request ended, not on a timer.
    const gw = await startStack({ mock: { frameDelayMs: 40 }, reloadGraceMs: 600_000 })
    try {
      const headers = { 'x-api-key': await gw.mint(), 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }
      const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers })
      expect(res.status).toBe(200)
      const before = gw.gateway.verifier
      await gw.gateway.reload(gw.gateway.config)
      expect(gw.gateway.verifier, 'the new configuration is in force at once').not.toBe(before)
      const closedLog = () => gw.logs.some((l) => l.includes('previous configuration closed'))
      // Read the stream frame by frame (each arrives ~40 ms apart): the old configuration stays open throughout.
      const reader = res.body!.getReader()
      let text = ''
      let checks = 0
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += Buffer.from(chunk.value).toString()
        // Until the last event has been written, the request is running on the old configuration.
        if (text.includes('message_stop')) continue
        expect(closedLog(), 'not closed while its stream is running').toBe(false)
        checks += 1
      }
      expect(checks, 'the stream was seen in flight').toBeGreaterThan(2)
      expect(text).toContain('event: message_stop')
      await expect.poll(closedLog, { timeout: 5_000 }).toBe(true)
      const after = await fetch(`${gw.url}/v1/messages`, { method: 'POST', body: messageBody(), headers: { ...headers, 'x-api-key': await gw.mint() } })
      expect(after.status).toBe(200)
    } finally {
      await gw.close()
    }
  }, 30_000)
})
