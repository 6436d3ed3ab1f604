import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfigText } from '../../src/config/load.js'
import { parseDuration } from '../../src/config/units.js'
import { isMap, mapAt, parseYamlStrict, readRepoFile, repoFileExists, type YamlMap } from './helpers.js'

/**
 * deploy/compose without `docker compose config`: the file parses, has the essentials (healthchecks,
 * ordered start-up, pinned PostgreSQL, restart policies, secrets as files), and its skillgate.yaml
 * loads with the real config loader and points at what the compose file provides.
 */

const composeSource = 'deploy/compose/docker-compose.yml'
const compose = parseYamlStrict(readRepoFile(composeSource), composeSource)
const services = mapAt(compose, 'services')
const gateway = mapAt(services, 'skillgate', 'services.skillgate')
const postgres = mapAt(services, 'postgres', 'services.postgres')
const configText = readRepoFile('deploy/compose/skillgate.yaml')

function environment(service: YamlMap): Record<string, string> {
  const env = service.environment
  if (env === undefined) return {}
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => String(entry).split('=', 2) as [string, string]))
  }
  return Object.fromEntries(Object.entries(env as YamlMap).map(([k, v]) => [k, String(v)]))
}

function secretNames(service: YamlMap): string[] {
  const list = Array.isArray(service.secrets) ? (service.secrets as unknown[]) : []
  return list.map((s) => (typeof s === 'string' ? s : String((s as YamlMap).source)))
}

const tmp = mkdtempSync(join(tmpdir(), 'skillgate-deploy-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('docker compose file', () => {
  it('runs the gateway and PostgreSQL, each with a restart policy and a healthcheck', () => {
    for (const [name, service] of [['skillgate', gateway], ['postgres', postgres]] as const) {
      expect(service.restart, `${name}.restart`).toMatch(/^(always|unless-stopped|on-failure(:\d+)?)$/)
      const test = mapAt(service, 'healthcheck', `${name}.healthcheck`).test
      expect(Array.isArray(test) && test.length > 1, `${name}.healthcheck.test`).toBe(true)
    }
    expect(JSON.stringify(mapAt(gateway, 'healthcheck').test)).toContain('/healthz')
    expect(JSON.stringify(mapAt(postgres, 'healthcheck').test)).toContain('pg_isready')
  })

  it('pins PostgreSQL to a version and keeps its data in a named volume', () => {
    const image = String(postgres.image)
    expect(image).toMatch(/^postgres:\d+(\.\d+)?[\w.-]*$/)
    expect(image).not.toMatch(/:latest$/)
    const volumes = (postgres.volumes as unknown[]).map(String)
    const data = volumes.find((v) => v.endsWith(':/var/lib/postgresql/data'))
    expect(data).toBeDefined()
    expect(Object.keys(mapAt(compose, 'volumes'))).toContain(data?.split(':')[0])
  })

  it('starts the gateway only after PostgreSQL is healthy (and the migration has run)', () => {
    const dependsOn = mapAt(gateway, 'depends_on', 'skillgate.depends_on')
    expect(mapAt(dependsOn, 'postgres').condition).toBe('service_healthy')
    for (const [name, service] of Object.entries(services)) {
      if (!isMap(service) || !isMap(service.depends_on)) continue
      for (const [dep, spec] of Object.entries(service.depends_on)) {
        expect(Object.keys(services), `${name} depends on unknown ${dep}`).toContain(dep)
        expect(isMap(spec) && typeof spec.condition === 'string', `${name}.depends_on.${dep}.condition`).toBe(true)
      }
    }
    if (isMap(services.migrate)) {
      expect(mapAt(dependsOn, 'migrate').condition).toBe('service_completed_successfully')
      expect(services.migrate.command).toEqual(['node', 'dist/cli/main.js', 'migrate'])
    }
  })

  it('passes secrets by reference: a Docker secret file and ${VAR} from .env, never a literal', () => {
    const topSecrets = mapAt(compose, 'secrets')
    for (const name of secretNames(gateway)) {
      expect(Object.keys(topSecrets), `secret ${name} is not declared`).toContain(name)
      expect(typeof mapAt(topSecrets, name).file).toBe('string')
    }
    const envExample = readRepoFile('deploy/compose/.env.example')
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(environment(service as YamlMap))) {
        if (!/(KEY|TOKEN|SECRET|PASSWORD)/i.test(key)) continue
        expect(value, `${name}.environment.${key} must be a \${VAR} reference`).toMatch(/^\$\{[A-Z0-9_]+(:?[?-][^}]*)?\}$/)
        const variable = /^\$\{([A-Z0-9_]+)/.exec(value)?.[1] ?? ''
        expect(envExample, `.env.example documents ${variable}`).toMatch(new RegExp(`^${variable}=`, 'm'))
      }
      expect(environment(service as YamlMap)).not.toHaveProperty('ANTHROPIC_API_KEY')
    }
    // The gateway's local secrets stay out of git.
    expect(readRepoFile('deploy/compose/.gitignore')).toMatch(/^\.env$/m)
    // …while the example config stays tracked although the root .gitignore ignores skillgate.yaml.
    expect(readRepoFile('deploy/compose/.gitignore')).toMatch(/^!skillgate\.yaml$/m)
  })

  it('gives the gateway more stop time than its drain timeout', () => {
    const loaded = loadConfigText(configText, 'deploy/compose/skillgate.yaml', {}, { resolveSecrets: false })
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
    const grace = parseDuration(String(gateway.stop_grace_period))
    expect(grace).toBeGreaterThan(loaded.config.listen.drainTimeout)
  })
})

describe('deploy/compose/skillgate.yaml', () => {
  const loaded = loadConfigText(configText, 'deploy/compose/skillgate.yaml', {}, { resolveSecrets: false })

  it('loads with the real config loader', () => {
    expect(loaded.ok ? [] : loaded.problems).toEqual([])
  })

  it('resolves its secrets when the referenced files exist', () => {
    const keyFile = join(tmp, 'anthropic_api_key')
    writeFileSync(keyFile, 'sk-ant-test-placeholder\n')
    const kekFile = join(tmp, 'key_encryption_key')
    writeFileSync(kekFile, `${Buffer.alloc(32, 7).toString('base64')}\n`)
    const text = configText.replace('/run/secrets/anthropic_api_key', keyFile).replace('/run/secrets/key_encryption_key', kekFile)
    const result = loadConfigText(text, 'compose (secrets resolved)', {})
    expect(result.ok ? [] : result.problems).toEqual([])
    if (result.ok) expect(result.config.secrets.upstreamApiKey?.reveal()).toBe('sk-ant-test-placeholder')
    if (result.ok) expect(result.config.secrets.keyEncryption).toHaveLength(1)
  })

  it('matches what the compose file provides', () => {
    if (!loaded.ok) throw new Error('config does not load')
    const { config } = loaded
    expect(config.listen.host).toBe('0.0.0.0')
    // The config is mounted where the image looks for it.
    expect((gateway.volumes as unknown[]).map(String)).toContain('./skillgate.yaml:/etc/skillgate/skillgate.yaml:ro')
    expect(repoFileExists('deploy/compose/skillgate.yaml')).toBe(true)
    // Published port → listen.port.
    const ports = (gateway.ports as unknown[]).map(String)
    expect(ports.some((p) => p.endsWith(`:${config.listen.port}`))).toBe(true)
    // The upstream key is the Docker secret file.
    const keyFile = config.upstream.apiKey?.fromFile ?? ''
    expect(keyFile).toMatch(/^\/run\/secrets\//)
    expect(secretNames(gateway)).toContain(keyFile.slice('/run/secrets/'.length))
    // The signing keys live in the shared store, sealed under a Docker secret (issue #14).
    const kek = config.gatewayTokens.keyEncryption
    const kekFile = (Array.isArray(kek) ? kek[0] : kek)?.fromFile ?? ''
    expect(kekFile).toMatch(/^\/run\/secrets\//)
    expect(secretNames(gateway)).toContain(kekFile.slice('/run/secrets/'.length))
    expect(config.gatewayTokens.signingKey).toBeUndefined()
    // storage.url reaches the postgres service and carries no password (PGPASSWORD does).
    const url = new URL(config.storage.url)
    expect(url.protocol).toMatch(/^postgres(ql)?:$/)
    expect(Object.keys(services)).toContain(url.hostname)
    expect(url.password).toBe('')
    expect(environment(gateway)).toHaveProperty('PGPASSWORD')
    if (isMap(services.migrate)) expect(environment(services.migrate)).toHaveProperty('PGPASSWORD')
    const pgEnv = environment(postgres)
    expect(decodeURIComponent(url.username)).toBe(pgEnv.POSTGRES_USER)
    expect(url.pathname.slice(1)).toBe(pgEnv.POSTGRES_DB)
  })
})
