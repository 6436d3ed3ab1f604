import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openDevIssuer } from '../../src/dev-issuer/dev-issuer.js'
import { startStack } from './harness.js'

describe('local dev issuer', () => {
  it('is unavailable until its key file exists, then works without a restart', async () => {
    const jwksFile = join(mkdtempSync(join(tmpdir(), 'skillgate-dev-')), 'dev-jwks.json')
    const stack = await startStack({
      configure: (config) => {
        ;(config.issuers as unknown[]).push({ id: 'dev', issuer: 'http://127.0.0.1:8080/dev', audience: 'dev-aud', algorithms: ['ES256'], jwks: { file: jwksFile }, direct: true })
        ;(config.rules as unknown[]).push({ id: 'dev-jobs', issuer: 'dev', match: { subject: 'dev:*' }, allow: { endpoints: ['models'] } })
      },
    })
    try {
      const notReady = await fetch(`${stack.url}/readyz`)
      expect(notReady.status).toBe(503)
      expect(await notReady.json()).toMatchObject({ issuers: expect.arrayContaining([expect.objectContaining({ id: 'dev', state: 'unavailable' })]) })
      const dev = await openDevIssuer({ issuer: 'http://127.0.0.1:8080/dev', audience: 'dev-aud', jwksFile })
      const token = await dev.mint({ sub: 'dev:me' }, 300)
      await expect.poll(async () => (await fetch(`${stack.url}/readyz`)).status, { timeout: 10_000 }).toBe(200)
      const res = await fetch(`${stack.url}/v1/models`, { headers: { 'x-api-key': token, 'anthropic-version': '2023-06-01' } })
      expect(res.status).toBe(200)
    } finally {
      await stack.close()
    }
  })
})
