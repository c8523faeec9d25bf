import { it } from 'vitest'
import { createTestGateway } from '../helpers/app.ts'
it('debug', async () => {
  for (const MOCK of ['0', '1']) {
    const gw = createTestGateway({ env: { MOCK } })
    console.log(MOCK, gw.app.routes.map((r) => `${r.method} ${r.path}`).join('\n'))
  }
})
