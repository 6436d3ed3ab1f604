import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload } from 'jose'

/**
 * A local issuer for trying skillgate out and for the demo: an ES256 key pair kept next to the
 * issuer's `jwks.file`. The public half is that file (the gateway re-reads it when it changes); the
 * private half stays in `<file>.signing-key.json` with mode 0600. Never for production identities.
 */
export interface DevIssuer {
  readonly issuer: string
  readonly audience: string
  mint(claims: JWTPayload & { sub: string }, ttlSeconds: number): Promise<string>
}

export interface DevIssuerSpec {
  readonly issuer: string
  readonly audience: string
  readonly jwksFile: string
}

export const signingKeyPath = (jwksFile: string) => jwksFile.replace(/(\.json)?$/, '.signing-key.json')

/** Loads the key pair, creating both files when the private key does not exist yet. */
export async function openDevIssuer(spec: DevIssuerSpec): Promise<DevIssuer> {
  const keyPath = signingKeyPath(spec.jwksFile)
  const privateJwk = existsSync(keyPath) ? (JSON.parse(await readFile(keyPath, 'utf8')) as JWK) : await createKeyPair(spec.jwksFile, keyPath)
  const key = await importJWK(privateJwk, 'ES256')
  const kid = privateJwk.kid ?? 'dev'
  return {
    issuer: spec.issuer,
    audience: spec.audience,
    async mint(claims, ttlSeconds) {
      const now = Math.floor(Date.now() / 1000)
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
        .setIssuer(spec.issuer)
        .setAudience(spec.audience)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .setJti(crypto.randomUUID())
        .sign(key)
    },
  }
}

async function createKeyPair(jwksFile: string, keyPath: string): Promise<JWK> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const kid = `dev-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' }
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }
  await mkdir(dirname(keyPath), { recursive: true })
  await writeFile(keyPath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  // Write-then-rename so a gateway watching the file never reads half a key set.
  await writeFile(`${jwksFile}.tmp`, `${JSON.stringify({ keys: [publicJwk] }, null, 2)}\n`)
  await rename(`${jwksFile}.tmp`, jwksFile)
  return privateJwk
}
