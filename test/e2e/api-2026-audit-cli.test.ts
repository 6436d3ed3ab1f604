import { afterEach, describe, expect, it, vi } from 'vitest'
import { runAuditCommand } from '../../src/cli/commands/audit.js'
import { messageBody, startStack } from './harness.js'

/** `skillgate audit list/replay --client-session`: one Claude Code session, listed and replayed as one. */
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

describe('skillgate audit --client-session', () => {
  it('lists the turns of one session and replays them as one stream', async () => {
    const stack = await startStack()
    const store = String((stack.gateway.config.storage as { url: string }).url)
    const session = crypto.randomUUID()
    const streams: string[] = []
    try {
      const headers = { 'x-api-key': await stack.mint(), 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: { ...headers, 'x-claude-code-session-id': session } })
        streams.push(await res.text())
      }
      await (await fetch(`${stack.url}/v1/messages`, { method: 'POST', body: messageBody({ stream: true }), headers: { ...headers, 'x-claude-code-session-id': crypto.randomUUID() } })).text()
      await stack.gateway.close(1_000)
    } finally {
      await stack.mock.close()
    }

    let out = captureStdout()
    expect(await runAuditCommand(['list', '--store', store, '--client-session', session])).toBe(0)
    expect(out.text()).toContain('2 record(s)')
    vi.restoreAllMocks()

    out = captureStdout()
    expect(await runAuditCommand(['replay', '--store', store, '--client-session', session, '--principal', 'ci:1234567/42', '--speed', '1000'])).toBe(0)
    const replayed = out.text()
    expect(replayed.match(/event: skillgate_turn\n/g)).toHaveLength(2)
    // Each turn's stream follows its heading exactly as the client received it.
    const turns = replayed.split(/event: skillgate_turn\ndata: .*\n\n/).filter((part) => part !== '')
    expect(turns).toEqual(streams)
    vi.restoreAllMocks()

    out = captureStdout()
    expect(await runAuditCommand(['replay', '--store', store, '--client-session', 'no-such-session'])).toBe(1)
  })
})
