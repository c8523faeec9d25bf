import { afterEach, describe, expect, it } from 'vitest'
import { FormAgent } from '../../src/kit/form-agent.ts'
import { prepareMock } from '../../src/mock/demo.ts'
import { createTestGateway, ISSUER, type TestGateway } from '../helpers/app.ts'

let gw: TestGateway | undefined
afterEach(() => gw?.close())

describe('one-click demo sign-in', () => {
  it('lists the demo users on the login page in mock mode, and one click signs in', async () => {
    gw = createTestGateway({ env: { MOCK: '1' } })
    await prepareMock(gw.deps)
    const fetch = gw.fetch
    const agent = new FormAgent((url, init) => fetch(url, init))
    const html = await (await agent.get(`${ISSUER}/login`)).text()
    for (const email of [
      'alice@mockwear.test',
      'kenji@mockwear.test',
      'tia@mockwear.test',
      'lena@mockwear.test',
    ]) {
      expect(html).toContain(`value="${email}"`)
    }
    const response = await agent.submit(
      html,
      `${ISSUER}/login`,
      {},
      { formSelector: 'section.demo form' },
    )
    expect(response.status).toBe(303)
    const account = await (await agent.get(`${ISSUER}/account`)).text()
    expect(account).toContain('Signed in as alice@mockwear.test')
  })

  it('never shows them in production', async () => {
    gw = createTestGateway()
    const html = await (await gw.fetch('/login')).text()
    expect(html).not.toContain('mockwear')
    expect(html).not.toContain('Demo accounts')
  })
})
