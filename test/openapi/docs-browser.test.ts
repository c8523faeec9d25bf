import { existsSync, mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { type ServerType, serve } from '@hono/node-server'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestGateway, type TestGateway } from '../helpers/app.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = new URL('../artifacts/', import.meta.url)

/**
 * /docs in a real browser, served over HTTP with its real headers: the page must render with the
 * CSP it is sent with (no scripts, nothing from the network), and every link of its table of
 * contents must land on something. Leaves a screenshot in test/artifacts/docs.png.
 */
describe.skipIf(!existsSync(CHROMIUM))('/docs in headless Chromium', () => {
  let gw: TestGateway
  let server: ServerType
  let base: string
  let browser: Browser

  beforeAll(async () => {
    gw = createTestGateway()
    server = serve({ fetch: gw.app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    })
  })
  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
    gw?.close()
  })

  it('renders without CSP violations or failed requests, and every contents link resolves', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } })
    const problems: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text())
    })
    page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`))
    const requested: string[] = []
    page.on('request', (request) => requested.push(request.url()))

    const response = await page.goto(`${base}/docs`)
    expect(response?.status()).toBe(200)
    expect(await page.title()).toBe('partner-gateway 0.1.0 — API reference')
    // One request: the page itself. No fonts, scripts or stylesheets from anywhere.
    expect(requested).toStrictEqual([`${base}/docs`])
    expect(problems).toStrictEqual([])

    const targets = await page.$$eval('nav.toc a[href^="#"]', (links) =>
      links.map((a) => decodeURIComponent((a.getAttribute('href') ?? '').slice(1))),
    )
    expect(targets.length).toBeGreaterThan(25)
    const missing = await page.evaluate(
      (ids) => ids.filter((id) => document.getElementById(id) === null),
      targets,
    )
    expect(missing).toStrictEqual([])

    // The style sheet applies as written (escaped quotes once broke its font stacks).
    expect(await page.$eval('body', (b) => getComputedStyle(b).fontFamily)).toMatch(
      /^-apple-system,/,
    )
    // The layout holds: the contents column is on the left, the reference beside it.
    const toc = await page.locator('nav.toc').boundingBox()
    const main = await page.locator('main').boundingBox()
    expect(toc && main && toc.x < main.x).toBe(true)

    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: new URL('docs.png', ARTIFACTS).pathname })
    await page.goto(`${base}/docs#operation/token`)
    await page.screenshot({ path: new URL('docs-token.png', ARTIFACTS).pathname })
    await page.close()
  })
})
