import { describe, expect, it } from 'vitest'
import { parseDockerfile, readRepoFile, repoFileExists, type DockerInstruction } from './helpers.js'

/**
 * The image's essentials, checked without a Docker daemon: multi-stage with one pinned base, a
 * non-root runtime user, a node-based HEALTHCHECK on /healthz, the documented CMD, and no secret
 * baked into ENV or ARG.
 */

const dockerfile = readRepoFile('Dockerfile')
const instructions = parseDockerfile(dockerfile)
const finalStage = Math.max(...instructions.map((i) => i.stage))
const runtime = instructions.filter((i) => i.stage === finalStage)
const one = (keyword: string, list: readonly DockerInstruction[] = runtime) => list.filter((i) => i.keyword === keyword)

/** Global ARG defaults (before the first FROM), for resolving `FROM ${NODE_IMAGE}`. */
const globalArgs = new Map(
  instructions
    .filter((i) => i.keyword === 'ARG' && i.stage === -1)
    .map((i) => {
      const [name = '', value = ''] = i.args.split('=', 2)
      return [name, value] as const
    }),
)

const fromLines = one('FROM', instructions).map((i) => {
  const [image = '', as, name] = i.args.replace(/^--platform=\S+\s+/, '').split(/\s+/)
  const resolved = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => globalArgs.get(a ?? b ?? '') ?? '')
  return { image: resolved, stageName: as?.toUpperCase() === 'AS' ? name : undefined }
})

describe('Dockerfile', () => {
  it('is multi-stage, every stage named, on one pinned Node 20 base', () => {
    expect(fromLines.length).toBeGreaterThanOrEqual(2)
    for (const from of fromLines) {
      expect(from.stageName, `FROM ${from.image} needs "AS name"`).toBeTruthy()
      expect(from.image).toMatch(/^node:20\.\d+[\w.-]*$/)
      expect(from.image).not.toMatch(/:latest$/)
    }
    // better-sqlite3 is compiled in the build stage: the runtime must be the same image (ABI, glibc).
    expect(new Set(fromLines.map((f) => f.image)).size).toBe(1)
  })

  it('builds with npm ci and npm run build, and ships production node_modules from the build stage', () => {
    const buildRuns = instructions.filter((i) => i.stage < finalStage && i.keyword === 'RUN').map((i) => i.args)
    expect(buildRuns.some((r) => /\bnpm ci\b/.test(r))).toBe(true)
    expect(buildRuns.some((r) => /\bnpm run build\b/.test(r))).toBe(true)
    expect(buildRuns.some((r) => /npm (prune|ci)\b.*--omit=dev/.test(r))).toBe(true)
    const copies = one('COPY').map((i) => i.args)
    expect(copies.some((c) => /--from=\S+\s+\/app\/node_modules\b/.test(c))).toBe(true)
    expect(copies.some((c) => /--from=\S+\s+\/app\/dist\b/.test(c))).toBe(true)
    // No compiler toolchain in the runtime stage.
    expect(one('RUN').some((r) => /apt-get install|node-gyp|npm ci\b/.test(r.args))).toBe(false)
  })

  it('runs the runtime stage as a numeric non-root user', () => {
    const users = one('USER')
    expect(users.length).toBeGreaterThan(0)
    const user = users.at(-1)?.args ?? ''
    expect(user).toMatch(/^\d+(:\d+)?$/) // numeric: Kubernetes runAsNonRoot can verify it
    expect(user.split(':')[0]).not.toBe('0')
  })

  it('has a HEALTHCHECK on /healthz that needs only node', () => {
    const checks = one('HEALTHCHECK')
    expect(checks).toHaveLength(1)
    const check = checks[0]?.args ?? ''
    expect(check).toContain('/healthz')
    expect(check).toMatch(/CMD \["node"/)
    expect(check).not.toMatch(/\b(curl|wget)\b/)
  })

  it('exposes 8080, stops with SIGTERM, keeps data in a volume and runs `serve`', () => {
    expect(one('EXPOSE').map((i) => i.args)).toContain('8080')
    expect(one('STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM'])
    expect(one('VOLUME').map((i) => i.args).join(' ')).toContain('/var/lib/skillgate')
    expect(one('ENV').map((i) => i.args).join(' ')).toMatch(/SKILLGATE_CONFIG=\/etc\/skillgate\/skillgate\.yaml/)
    const cmd = one('CMD').at(-1)?.args ?? ''
    expect(JSON.parse(cmd)).toEqual(['node', 'dist/cli/main.js', 'serve'])
  })

  it('bakes no secret into ENV or ARG', () => {
    const secretish = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)/i
    for (const i of instructions.filter((x) => x.keyword === 'ENV' || x.keyword === 'ARG')) {
      const names = [...i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)/g)].map((m) => m[1] ?? '')
      for (const name of names) expect(name, `${i.keyword} ${i.args}`).not.toMatch(secretish)
    }
    expect(dockerfile).not.toMatch(/sk-ant-/)
  })

  it('copies only files that exist and that .dockerignore keeps in the context', () => {
    const ignored = readRepoFile('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
    for (const essential of ['.git', 'node_modules', 'data', 'test-artifacts', 'dist']) expect(ignored).toContain(essential)
    const sources = one('COPY', instructions)
      .filter((i) => !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1))
    expect(sources.length).toBeGreaterThan(0)
    for (const source of sources) {
      expect(repoFileExists(source), `COPY ${source}`).toBe(true)
      expect(ignored, `${source} is excluded by .dockerignore`).not.toContain(source)
    }
  })
})
