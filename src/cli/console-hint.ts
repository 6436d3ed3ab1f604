import type { Config } from '../config/load.js'

/**
 * What `serve` prints once it listens: where the console is and how to sign in to it, from the
 * configuration in force. It names where an admin token comes from (an environment variable or a
 * file), never the token itself.
 */
export function consoleHint(config: { readonly admin: Pick<Config['admin'], 'tokens' | 'issuers'> }, url: string): string {
  const consoleUrl = `${url}/ui/`
  const { tokens, issuers } = config.admin
  if (tokens.length === 0 && issuers.length === 0) {
    return [
      `skillgate: console at ${consoleUrl} — but nobody can sign in: no admin token or sign-in issuer is configured.`,
      '  With the bundled example: export SKILLGATE_ADMIN_TOKEN=$(openssl rand -hex 24) and restart.',
      '  Otherwise add admin: { tokens: [{ secret: { fromEnv: SKILLGATE_ADMIN_TOKEN }, roles: [admin, approver] }] }',
      '  (docs/console.md), then restart.',
    ].join('\n')
  }
  const ways = [
    ...tokens.map((token) => `an admin token (${token.roles.join(', ')}) from ${sourceOf(token.secret)}`),
    ...issuers.filter((i) => i.login !== undefined).map((i) => `single sign-on through ${i.id}: ${url}/admin/login/${encodeURIComponent(i.id)}`),
    ...(issuers.some((i) => i.login === undefined) ? [`an OIDC token of ${issuers.filter((i) => i.login === undefined).map((i) => i.id).join(', ')} (paste it)`] : []),
  ]
  return [`skillgate: console at ${consoleUrl} — sign in with:`, ...ways.map((way) => `  - ${way}`), `  The CLI takes the same token: export SKILLGATE_URL=${url} SKILLGATE_ADMIN_TOKEN=…`].join('\n')
}

function sourceOf(secret: { readonly fromEnv?: string | undefined; readonly fromFile?: string | undefined }): string {
  if (secret.fromEnv !== undefined) return `$${secret.fromEnv}`
  if (secret.fromFile !== undefined) return `the file ${secret.fromFile}`
  return 'its inline value in the configuration'
}
