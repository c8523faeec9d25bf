import { parse as parseHtml } from 'node-html-parser'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as yaml from 'yaml'
import { webhookLabel } from '../../src/docs/spec.ts'
import { PAGE_HEADERS } from '../../src/views/layout.tsx'
import { createTestGateway, read, type TestGateway } from '../helpers/app.ts'

// Counts how often the app parses the document (it should once per app, not per request).
vi.mock('yaml', async (importOriginal) => {
  const actual = await importOriginal<typeof import('yaml')>()
  return { ...actual, parse: vi.fn(actual.parse) }
})

describe('the documentation routes', () => {
  let gw: TestGateway
  const file = read('openapi.yaml')
  beforeAll(() => {
    gw = createTestGateway()
  })
  afterAll(() => gw.close())

  it('serves openapi.yaml byte for byte, as application/yaml', async () => {
    const response = await gw.fetch('/openapi.yaml')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/yaml; charset=utf-8')
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(file, 'utf8'))).toBe(true)
  })

  it('serves the same document as JSON', async () => {
    const response = await gw.fetch('/openapi.json')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await response.json()).toStrictEqual(yaml.parse(file))
  })

  it('renders /docs as HTML with the page security headers, mentioning every path and operation', async () => {
    const response = await gw.fetch('/docs')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    for (const [name, value] of Object.entries(PAGE_HEADERS)) {
      expect(response.headers.get(name), name).toBe(value)
    }
    const html = await response.text()
    expect(html.startsWith('<!doctype html>')).toBe(true)
    const root = parseHtml(html)
    // Self-contained: no scripts, and nothing loaded from anywhere (outbound <a> links are fine).
    expect(root.querySelectorAll('script')).toStrictEqual([])
    expect(root.querySelectorAll('[src]')).toStrictEqual([])
    expect(root.querySelectorAll('link').map((l) => l.getAttribute('href'))).toStrictEqual([
      'data:,',
    ])
    const doc = yaml.parse(file) as {
      paths: Record<string, Record<string, { operationId: string; summary: string }>>
      webhooks: Record<string, Record<string, { operationId: string; summary: string }>>
    }
    const operations = root.querySelectorAll('article.op')
    const shown = operations.map((op) => {
      const method = op.querySelector('.method')?.text
      const path = op.querySelector('.endpoint .path')?.text
      return `${method} ${path}`
    })
    const documented = [
      ...Object.entries(doc.paths),
      ...Object.entries(doc.webhooks).map(([name, item]) => [webhookLabel(name), item] as const),
    ].flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => method !== 'parameters')
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    )
    expect(Object.keys(doc.webhooks).length).toBeGreaterThan(0)
    expect(shown.sort()).toStrictEqual(documented.sort())

    // Each operation and webhook has an anchor, a contents entry and its summary.
    for (const item of [...Object.values(doc.paths), ...Object.values(doc.webhooks)]) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue
        const article = root.getElementById(`operation/${op.operationId}`)
        expect(article?.querySelector('h3')?.text.trim(), op.operationId).toBe(op.summary)
        expect(
          root.querySelector(`nav.toc a[href="#operation/${op.operationId}"]`),
          op.operationId,
        ).not.toBeNull()
      }
    }
  })

  it('renders what the reader needs: tags, parameters, fields of resolved $refs, responses, Markdown', async () => {
    const root = parseHtml(await (await gw.fetch('/docs')).text())
    const token = root.getElementById('operation/token')
    expect(token).not.toBeNull()
    const text = token?.text ?? ''
    // Request body: both grant variants and their fields (allOf merged, oneOf shown as variants).
    expect(token?.querySelectorAll('.variant .title').map((t) => t.text)).toStrictEqual([
      'authorization_code',
      'refresh_token',
    ])
    expect(text).toContain('code_verifier')
    // Responses with status, headers and the fields behind `$ref: TokenResponse`.
    expect(token?.querySelectorAll('.status').map((s) => s.text)).toStrictEqual([
      '200',
      '400',
      '401',
      '413',
      '429',
      '5XX',
    ])
    expect(text).toContain('Cache-Control')
    expect(text).toContain('refresh_token')
    expect(token?.querySelector('.prose code')?.text).toBe('authorization_code')

    const authorize = root.getElementById('operation/authorize')
    const parameters = authorize
      ?.querySelectorAll('td.name')
      .map((td) => td.childNodes[0]?.text.trim())
    expect(parameters).toEqual(
      expect.arrayContaining(['client_id', 'code_challenge', 'code_challenge_method']),
    )

    // Nested fields are shown under their parent path.
    const list = root.getElementById('operation/listClients')?.text ?? ''
    expect(list).toContain('data[].')
    expect(root.querySelectorAll('section.group > h2').map((h) => h.text)).toEqual(
      expect.arrayContaining([
        'Authentication',
        'Discovery',
        'Authorization',
        'Tokens',
        'Admin clients',
      ]),
    )
  })

  it('renders the webhooks the gateway sends, with the fields of nullable blocks expanded', async () => {
    const root = parseHtml(await (await gw.fetch('/docs')).text())
    const sleepEvent = root.getElementById('operation/sleepEvent')
    expect(sleepEvent?.querySelector('.endpoint .path')?.text).toBe('{webhook_url} · sleep event')
    expect(sleepEvent?.querySelector('.method')?.text).toBe('POST')
    const fields = (sleepEvent?.querySelectorAll('tr') ?? []).map(
      (row) => row.querySelector('td')?.text.replace(/\s+/g, ' ').trim() ?? '',
    )
    // data_enrichment is `anyOf: [SleepDataEnrichment, null]`: its own fields are listed under it.
    expect(fields.some((f) => f.startsWith('data[].data_enrichment'))).toBe(true)
    expect(fields.some((f) => f.startsWith('data[].data_enrichment.sleep_score'))).toBe(true)
    expect(fields.some((f) => f.startsWith('data[].heart_rate_data.summary.avg_hr_bpm'))).toBe(true)
    expect(root.querySelector('nav.toc a[href="#operation/sleepEvent"]')).not.toBeNull()
  })

  it('parses the document once per app, not per request', async () => {
    const fresh = createTestGateway()
    const parse = vi.mocked(yaml.parse)
    parse.mockClear()
    for (let i = 0; i < 3; i++) {
      expect((await fresh.fetch('/docs')).status).toBe(200)
      expect((await fresh.fetch('/openapi.json')).status).toBe(200)
    }
    expect(parse).toHaveBeenCalledTimes(1)
    fresh.close()
  })
})
