import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { redactConfig } from '../../src/admin/redact-config.js'
import { bundledConfigPath, loadConfigFile, type Config } from '../../src/config/load.js'
import { writeDemoConfig } from '../../src/demo/demo-config.js'
import { explainDecision } from '../../src/policy/explain.js'
// @ts-expect-error -- the console's plain ES module (typed by JSDoc, checked by ui/tsconfig.json)
import { explainSample } from '../../ui/public/js/explain-sample.js'

type Sample = { issuer: string; claims: Record<string, string>; request: { method: string; path: string; body?: unknown } }

const offline = (path: string): Config => {
  const loaded = loadConfigFile(path, {}, { resolveSecrets: false })
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
  return loaded.config
}

/** The sample the page builds from GET /admin/api/config, explained by the same policy. */
const decide = (config: Config) => {
  const sample = explainSample(JSON.parse(JSON.stringify(redactConfig(config)))) as Sample
  return explainDecision(config, sample.claims, sample.issuer, sample.request).decision
}

describe('the Policy explain page\'s first example (issue #17)', () => {
  it('is allowed by the demo\'s own policy (skill, tool, claims and principal included)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sample-'))
    const { configPath } = await writeDemoConfig({ dir, port: 1, upstreamUrl: 'http://127.0.0.1:9', upstreamKey: 'k' })
    expect(decide(offline(configPath))).toMatchObject({ effect: 'allow', rule: 'release-notes' })
  })

  it('is allowed by the bundled example configuration', () => {
    expect(decide(offline(bundledConfigPath))).toMatchObject({ effect: 'allow', rule: 'dev-jobs' })
  })

  it('is absent when no allow rule is configured', () => {
    expect(explainSample({ issuers: [], rules: [] })).toBeUndefined()
  })
})
