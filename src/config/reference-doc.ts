/**
 * Renders docs/config.md from the JSON Schema of the configuration, so the reference can never
 * drift from the definition (node-oidc-provider `docs/update-configuration.js`). A test regenerates
 * it and fails on any difference.
 */
interface SchemaNode {
  type?: string | string[]
  description?: string
  default?: unknown
  properties?: Record<string, SchemaNode>
  required?: string[]
  items?: SchemaNode
  anyOf?: SchemaNode[]
  enum?: unknown[]
  const?: unknown
  pattern?: string
  additionalProperties?: SchemaNode | boolean
}

interface Row {
  path: string
  type: string
  required: boolean
  default: string
  description: string
}

export function renderConfigReference(schema: unknown): string {
  const rows: Row[] = []
  walk(schema as SchemaNode, '', true, rows)
  const lines = [
    '# Configuration reference',
    '',
    'Generated from `src/config/schema.ts` by `npm run schema`; do not edit by hand. Every object is',
    'closed: an unknown key is an error. Durations are strings such as `30s`, `5m`, `1h`, `90d`; sizes such',
    'as `32MB`. Secrets are `{ fromEnv: NAME }`, `{ fromFile: PATH }` (re-read when it changes) or, for tests,',
    '`{ value: "..." }`. `[]` in a path means "each entry of the list", `{}` "each entry of the map".',
    '',
    '| key | type | required | default | description |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| \`${r.path}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.default} | ${r.description} |`),
    '',
  ]
  return lines.join('\n')
}

function walk(node: SchemaNode, path: string, required: boolean, rows: Row[]): void {
  if (path) rows.push({ path, type: describeType(node), required, default: fmtDefault(node.default), description: escape(node.description ?? '') })
  const object = node.properties ? node : node.anyOf?.find((n) => n.properties)
  if (object?.properties) {
    for (const [key, child] of Object.entries(object.properties)) {
      walk(child, path ? `${path}.${key}` : key, object.required?.includes(key) ?? false, rows)
    }
  }
  if (node.items) walkContainer(node.items, `${path}[]`, rows)
  if (typeof node.additionalProperties === 'object') walkContainer(node.additionalProperties, `${path}.{}`, rows)
}

function walkContainer(child: SchemaNode, path: string, rows: Row[]): void {
  if (child.properties || child.anyOf?.some((n) => n.properties)) walk(child, path, true, rows)
}

function describeType(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' \\| ')
  if (node.const !== undefined) return `\`${String(node.const)}\``
  if (node.anyOf) return [...new Set(node.anyOf.map(describeType))].join(' \\| ')
  if (node.type === 'array') return `list of ${node.items ? describeType(node.items) : 'any'}`
  if (node.type === 'object' && typeof node.additionalProperties === 'object') return 'map'
  if (Array.isArray(node.type)) return node.type.join(' \\| ')
  return node.type ?? 'any'
}

function fmtDefault(value: unknown): string {
  if (value === undefined) return ''
  return `\`${escape(JSON.stringify(value))}\``
}

const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
