import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import { parseDuration } from '../../src/config/units.js'
import { isMap, mapAt, parseDockerfile, parseYamlStrict, readRepoFile, repoPath, templateActions, withoutStrings } from './helpers.js'

/**
 * The Helm chart without `helm template`: plain YAML files parse, every template action is closed
 * and its blocks balance, every `.Values` path exists in values.yaml, every helper is defined, only
 * known template functions are called, and the default `config` block loads with the real loader
 * and agrees with what the Deployment mounts.
 */

const chartDir = 'deploy/helm/skillgate'
const chart = parseYamlStrict(readRepoFile(chartDir, 'Chart.yaml'), 'Chart.yaml')
const values = parseYamlStrict(readRepoFile(chartDir, 'values.yaml'), 'values.yaml')
const templateFiles = readdirSync(repoPath(chartDir, 'templates')).sort()
const templates = new Map(templateFiles.map((f) => [f, readRepoFile(chartDir, 'templates', f)]))
const deployment = templates.get('deployment.yaml') ?? ''

/** Go text/template builtins and keywords, Helm's own functions, and the Sprig functions this chart may use. */
const knownFunctions = new Set([
  ...['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue', 'nil', 'true', 'false'],
  ...['and', 'or', 'not', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'len', 'index', 'slice', 'print', 'printf', 'println', 'call', 'html', 'js', 'urlquery'],
  ...['include', 'tpl', 'required', 'toYaml', 'fromYaml', 'toJson', 'fromJson', 'lookup', 'fail'],
  ...['default', 'empty', 'coalesce', 'ternary', 'quote', 'squote', 'indent', 'nindent', 'trunc', 'trim', 'trimSuffix', 'trimPrefix', 'replace'],
  ...['contains', 'hasPrefix', 'hasSuffix', 'upper', 'lower', 'toString', 'int', 'int64', 'atoi', 'float64', 'add', 'add1', 'sub', 'mul', 'div', 'mod', 'max', 'min'],
  ...['regexMatch', 'sha256sum', 'b64enc', 'randBytes', 'dig', 'get', 'hasKey', 'keys', 'dict', 'list', 'first', 'last', 'join', 'merge', 'kindIs', 'semverCompare'],
])

const blockOpeners = new Set(['if', 'range', 'with', 'define', 'block'])

function words(action: string): string[] {
  return withoutStrings(action).split(/\s+/).filter(Boolean)
}

/** The function names an action calls: the first word of each pipeline stage and parenthesised group. */
function calledFunctions(action: string): string[] {
  const called: string[] = []
  for (const segment of withoutStrings(action).split(/[|()]/)) {
    const tokens = segment.trim().split(/\s+/).filter(Boolean)
    let i = 0
    // `$x := f …`: the call starts after the assignment; `else if f …`, `range $i, $v := …` likewise.
    const assign = tokens.findIndex((t) => t === ':=' || t === '=')
    if (assign !== -1) i = assign + 1
    while (i < tokens.length && ['else', 'if', 'with', 'range'].includes(tokens[i] ?? '')) {
      called.push(tokens[i] ?? '')
      i += 1
    }
    const head = tokens[i]
    if (head && /^[A-Za-z_][A-Za-z0-9_]*$/.test(head)) called.push(head)
  }
  return called
}

/** `.Values.a.b` and `$.Values.a.b` paths, as key lists. */
function valuesPaths(action: string): string[][] {
  return [...withoutStrings(action).matchAll(/(?:^|[\s($])\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) => (m[1] ?? '').slice(1).split('.'))
}

function hasPath(root: unknown, path: readonly string[]): boolean {
  let node = root
  for (const key of path) {
    if (!isMap(node) || !Object.prototype.hasOwnProperty.call(node, key)) return false
    node = node[key]
  }
  return true
}

describe('Helm chart: plain YAML', () => {
  it('has a v2 Chart.yaml whose appVersion is the package version', () => {
    const pkg = JSON.parse(readRepoFile('package.json')) as { version: string }
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'skillgate', type: 'application', appVersion: pkg.version })
    expect(String((chart as { version: unknown }).version)).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('has the templates the chart promises', () => {
    for (const file of ['_helpers.tpl', 'NOTES.txt', 'deployment.yaml', 'service.yaml', 'configmap.yaml', 'pdb.yaml']) {
      expect(templateFiles).toContain(file)
    }
  })
})

describe('Helm chart: templates', () => {
  it.each(templateFiles)('%s: every {{ is closed and blocks balance', (file) => {
    const found = templateActions(templates.get(file) ?? '', file)
    let depth = 0
    for (const action of found) {
      if (action.text.startsWith('/*')) {
        expect(action.text.endsWith('*/'), `${file}:${action.line} unterminated comment`).toBe(true)
        continue
      }
      const first = words(action.text)[0] ?? ''
      if (blockOpeners.has(first)) depth += 1
      if (first === 'end') depth -= 1
      expect(depth, `${file}:${action.line} "end" without a block`).toBeGreaterThanOrEqual(0)
    }
    expect(depth, `${file}: ${depth} block(s) never ended`).toBe(0)
  })

  it.each(templateFiles)('%s: every .Values path exists in values.yaml', (file) => {
    for (const action of templateActions(templates.get(file) ?? '', file)) {
      for (const path of valuesPaths(action.text)) {
        expect(hasPath(values, path), `${file}:${action.line} .Values.${path.join('.')}`).toBe(true)
      }
    }
  })

  it.each(templateFiles)('%s: calls only known functions and defined helpers', (file) => {
    const defined = new Set<string>()
    for (const text of templates.values()) for (const m of text.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)) defined.add(m[1] ?? '')
    for (const action of templateActions(templates.get(file) ?? '', file)) {
      if (action.text.startsWith('/*')) continue
      for (const name of calledFunctions(action.text)) {
        expect(knownFunctions.has(name), `${file}:${action.line} unknown function "${name}"`).toBe(true)
      }
      for (const m of action.text.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)) {
        expect(defined.has(m[1] ?? ''), `${file}:${action.line} helper "${m[1]}" is not defined`).toBe(true)
      }
    }
  })

  it('probes /healthz for liveness and /readyz for readiness', () => {
    expect(deployment).toMatch(/livenessProbe:\s*\n\s*httpGet: \{ path: \/healthz/)
    expect(deployment).toMatch(/readinessProbe:\s*\n\s*httpGet: \{ path: \/readyz/)
    expect(deployment).toMatch(/startupProbe:\s*\n\s*httpGet: \{ path: \/healthz/)
  })

  it('rolls the pods when the ConfigMap changes', () => {
    expect(deployment).toMatch(/checksum\/config: \{\{ include \(print \$\.Template\.BasePath "\/configmap\.yaml"\) \. \| sha256sum \}\}/)
  })

  it('runs non-root on a read-only root filesystem, with /tmp as an emptyDir', () => {
    const pod = mapAt(values, 'podSecurityContext')
    const container = mapAt(values, 'securityContext')
    expect(pod.runAsNonRoot).toBe(true)
    expect(container.readOnlyRootFilesystem).toBe(true)
    expect(container.allowPrivilegeEscalation).toBe(false)
    expect(deployment).toMatch(/- name: tmp\s*\n\s*mountPath: \/tmp/)
    expect(deployment).toMatch(/- name: tmp\s*\n\s*emptyDir:/)
    // The same uid as the image's USER, so files the image prepared are writable.
    const user = parseDockerfile(readRepoFile('Dockerfile')).filter((i) => i.keyword === 'USER').at(-1)?.args ?? ''
    expect(String(pod.runAsUser)).toBe(user.split(':')[0])
  })

  it('gives the pod more grace than preStop sleep plus the drain timeout', () => {
    expect(deployment).toContain('terminationGracePeriodSeconds: {{ include "skillgate.graceSeconds" . }}')
    const config = mapAt(values, 'config')
    const drainSeconds = Math.ceil(parseDuration(String(mapAt(config, 'listen').drainTimeout)) / 1000)
    const preStop = Number((values as { preStopSleepSeconds: unknown }).preStopSleepSeconds)
    const explicit = (values as { terminationGracePeriodSeconds: unknown }).terminationGracePeriodSeconds
    // Mirrors the helper: explicit, else preStop + drain + 10.
    const grace = explicit ? Number(explicit) : preStop + drainSeconds + 10
    expect(grace).toBeGreaterThan(preStop + drainSeconds)
  })
})

describe('Helm chart: the default config block', () => {
  const config = mapAt(values, 'config')
  const loaded = loadConfigText(stringify(config), 'values.yaml#config', {}, { resolveSecrets: false })

  it('loads with the real config loader', () => {
    expect(loaded.ok ? [] : loaded.problems).toEqual([])
  })

  it('listens on all interfaces and reads the upstream key from the mounted Secret', () => {
    if (!loaded.ok) throw new Error('config does not load')
    expect(loaded.config.listen.host).toBe('0.0.0.0')
    const mount = /- name: upstream-key\s*\n\s*mountPath: (\S+)/.exec(deployment)?.[1]
    const key = String(mapAt(values, 'upstreamApiKey').key)
    expect(loaded.config.upstream.apiKey?.fromFile).toBe(`${mount}/${key}`)
  })

  it('keeps the signing keys in the store under a key-encryption key generated once and mounted where the config reads it', () => {
    if (!loaded.ok) throw new Error('config does not load')
    expect(loaded.config.gatewayTokens.signingKey).toBeUndefined()
    const kek = loaded.config.gatewayTokens.keyEncryption
    const mount = /- name: key-encryption\s*\n\s*mountPath: (\S+)/.exec(deployment)?.[1]
    expect((Array.isArray(kek) ? kek[0] : kek)?.fromFile).toBe(`${mount}/key`)
    const secret = templates.get('key-encryption-secret.yaml') ?? ''
    // Generated on install, carried over on upgrade, kept on uninstall.
    expect(secret).toMatch(/lookup "v1" "Secret"/)
    expect(secret).toMatch(/randBytes 32/)
    expect(secret).toMatch(/helm\.sh\/resource-policy: keep/)
  })

  it('uses PostgreSQL (several replicas) with no password in the ConfigMap', () => {
    if (!loaded.ok) throw new Error('config does not load')
    expect(Number((values as { replicaCount: unknown }).replicaCount)).toBeGreaterThan(1)
    expect(loaded.config.storage.url).toMatch(/^postgres(ql)?:\/\//)
    expect(new URL(loaded.config.storage.url).password).toBe('')
    expect(String(mapAt(values, 'postgresql').existingSecret)).not.toBe('')
  })
})
