import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { runAuditCommand } from '../../src/cli/commands/audit.js'
import { messageBody, startStack } from './harness.js'

function captureStdout(): { text: () => string } {
  let out = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  return { text: () => out }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('skillgate audit against the store a gateway wrote', () => {
  it('lists, replays a stream exactly as the client received it, and finds a hand-edited record', async () => {
    const stack = await startStack()
    const store = String((stack.gateway.config.storage as { url: string }).url)
    let streamed = ''
    let streamId = ''
    try {
      const token = await stack.mint()
      const headers = { 'x-api-key': token, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }
      for (let i = 0; i < 3; i++) await (await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody(), headers })).text()
      const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers })
      streamId = res.headers.get('skillgate-request-id')!
      streamed = await res.text()
      await stack.gateway.close(1_000)
    } finally {
      await stack.mock.close()
    }

    let out = captureStdout()
    expect(await runAuditCommand(['list', '--store', store])).toBe(0)
    expect(out.text()).toContain('4 record(s)')
    expect(out.text()).toContain('ci:1234567/42')
    vi.restoreAllMocks()

    out = captureStdout()
    expect(await runAuditCommand(['replay', streamId, '--store', store, '--speed', '1000'])).toBe(0)
    expect(out.text()).toBe(streamed)
    vi.restoreAllMocks()

    out = captureStdout()
    expect(await runAuditCommand(['verify', '--store', store])).toBe(0)
    expect(out.text()).toContain('audit chain intact: 4 record(s)')
    vi.restoreAllMocks()

    const db = new Database(store.slice('sqlite:'.length))
    db.prepare("UPDATE audit_chain SET body = replace(body, 'Hello from the mock upstream.', 'Hello from an attacker.') WHERE record_id = ? AND kind = 'close'").run(streamId)
    db.close()
    out = captureStdout()
    expect(await runAuditCommand(['verify', '--store', store])).toBe(1)
    expect(out.text()).toContain('audit chain broken')
    expect(out.text()).toContain(streamId)
  })
})
