import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildCompletion, buildOpening } from '../../src/audit/record-builder.js'
import { assembleRecord, type AuditRecord } from '../../src/audit/record.js'
import { createAuditSink, createJsonlSink, createWebhookSink, signWebhookBody, verifyWebhookSignature } from '../../src/audit/sinks/index.js'

function sampleRecord(n = 0): AuditRecord {
  const start = new Date('2030-01-01T00:00:00.000Z')
  const id = `01JB7Z5Q9W3Y4X2V1T0S9R8Q${String(n).padStart(2, '0')}`
  const opening = buildOpening({ id, start, decision: { effect: 'allow', rule: 'r', principal: 'p', reasons: [] }, endpoint: 'messages', method: 'POST', path: '/v1/messages', requestBytes: 1, content: 'masked' })
  const completion = buildCompletion({ start, end: start, status: 200, outcome: 'completed', content: 'masked' })
  const pos = { seq: 1, prevHash: '0'.repeat(64), hash: 'f'.repeat(64) }
  return assembleRecord(opening, completion, { open: pos, close: pos })
}

interface Received {
  headers: IncomingHttpHeaders
  body: string
}

/** A local receiver on 127.0.0.1:0 that answers with the given statuses in turn (then 200). */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.statusCode = statuses.shift() ?? 200
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server }
}

const servers: Server[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve))
})

describe('webhook sink', () => {
  it('retries after a 500 and signs every delivery so the receiver can verify it', async () => {
    const { url, received, server } = await receiver([500])
    servers.push(server)
    const sink = createWebhookSink({ url, secret: { reveal: () => 'hook-secret' }, baseDelayMs: 5 })
    const record = sampleRecord()
    sink.publish(record)
    await sink.flush()
    expect(received).toHaveLength(2)
    expect(sink.stats()).toMatchObject({ delivered: 1, retries: 1, failed: 0, dropped: 0, queued: 0 })
    for (const r of received) {
      expect(JSON.parse(r.body)).toEqual(record)
      expect(r.headers['content-type']).toBe('application/json')
      expect(r.headers['skillgate-delivery']).toBe(record.id)
      const header = r.headers['skillgate-signature'] as string
      expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
      expect(verifyWebhookSignature('hook-secret', r.body, header)).toBe(true)
      expect(verifyWebhookSignature('wrong-secret', r.body, header)).toBe(false)
      expect(verifyWebhookSignature('hook-secret', r.body.replace('"p"', '"q"'), header)).toBe(false)
    }
  })

  it('gives up on a 4xx without retrying, and after maxAttempts on repeated 5xx', async () => {
    const { url, received, server } = await receiver([400, 503, 503])
    servers.push(server)
    const errors: string[] = []
    const sink = createWebhookSink({ url, baseDelayMs: 1, maxAttempts: 2, onError: (e, id) => errors.push(`${id}: ${e.message}`) })
    sink.publish(sampleRecord(1))
    sink.publish(sampleRecord(2))
    await sink.flush()
    expect(received).toHaveLength(3)
    expect(received[0]?.headers['skillgate-signature']).toBeUndefined()
    expect(sink.stats()).toMatchObject({ delivered: 0, failed: 2, retries: 1 })
    expect(errors).toEqual(['01JB7Z5Q9W3Y4X2V1T0S9R8Q01: webhook delivery gave up after 1 attempt(s)', '01JB7Z5Q9W3Y4X2V1T0S9R8Q02: webhook delivery gave up after 2 attempt(s)'])
  })

  it('bounds its queue and counts what it drops', async () => {
    const { url, server } = await receiver([])
    servers.push(server)
    const sink = createWebhookSink({ url, queueSize: 2 })
    for (let i = 0; i < 5; i++) sink.publish(sampleRecord(i))
    expect(sink.stats().dropped).toBe(3)
    await sink.close()
    sink.publish(sampleRecord(9))
    expect(sink.stats()).toMatchObject({ delivered: 2, dropped: 4 })
  })

  it('rejects signatures outside the time tolerance', () => {
    const header = signWebhookBody('s', '{}', 1_000)
    expect(verifyWebhookSignature('s', '{}', header, { nowSeconds: 1_200 })).toBe(true)
    expect(verifyWebhookSignature('s', '{}', header, { nowSeconds: 1_301 })).toBe(false)
    expect(verifyWebhookSignature('s', '{}', undefined)).toBe(false)
  })
})

describe('jsonl sink', () => {
  it('appends one JSON line per record to a file, creating its directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-jsonl-'))
    try {
      const path = join(dir, 'logs/audit.jsonl')
      const sink = createAuditSink({ jsonl: { path } })
      sink.publish(sampleRecord(1))
      sink.publish(sampleRecord(2))
      await sink.close()
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
      expect(lines.map((l) => (JSON.parse(l) as AuditRecord).id)).toEqual([sampleRecord(1).id, sampleRecord(2).id])
      expect(sink.stats()).toMatchObject({ delivered: 2, dropped: 0 })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('drops and counts when writes back up', async () => {
    const { PassThrough } = await import('node:stream')
    const stream = new PassThrough({ highWaterMark: 1 })
    const sink = createJsonlSink({ path: '-', stream, queueSize: 3 })
    for (let i = 0; i < 10; i++) sink.publish(sampleRecord(i))
    expect(sink.stats().dropped).toBeGreaterThan(0)
    stream.resume()
    await sink.flush()
    expect(sink.stats().delivered + sink.stats().dropped).toBe(10)
  })
})

describe('signed chain heads in the sinks (issue #16)', () => {
  const head = { type: 'audit_head' as const, jws: 'eyJhbGciOiJFZERTQSJ9.eyJ0eXBlIjoic2tpbGxnYXRlLmF1ZGl0LmhlYWQifQ.c2lnbmF0dXJlLW9mLXRoaXMtaGVhZA' }

  it('webhook: a head is one signed delivery, event audit.head, in order with the records', async () => {
    const { url, received, server } = await receiver([])
    servers.push(server)
    const sink = createWebhookSink({ url, secret: { reveal: () => 'hook-secret' } })
    sink.publish(sampleRecord(1))
    sink.publishHead(head)
    await sink.flush()
    expect(received.map((r) => r.headers['skillgate-event'])).toEqual(['audit.record', 'audit.head'])
    expect(JSON.parse(received[1]!.body)).toEqual(head)
    expect(received[1]?.headers['skillgate-delivery']).toMatch(/^head-/)
    expect(verifyWebhookSignature('hook-secret', received[1]!.body, String(received[1]?.headers['skillgate-signature']))).toBe(true)
  })

  it('jsonl: a head is one line between the records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skillgate-sink-heads-'))
    try {
      const path = join(dir, 'audit.jsonl')
      const sink = createJsonlSink({ path })
      sink.publish(sampleRecord(1))
      sink.publishHead(head)
      sink.publish(sampleRecord(2))
      await sink.close()
      const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type?: string })
      expect(lines.map((l) => l.type ?? 'record')).toEqual(['record', 'audit_head', 'record'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
