import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { describeJsonError, locateJsonError, readJsonBody } from '../../src/admin/json-body.ts'
import { Problem } from '../../src/http/errors.ts'

describe('locateJsonError', () => {
  it('agrees with JSON.parse on what is JSON', () => {
    const samples = [
      '{}',
      '[]',
      '0',
      '-0.5e+10',
      '"a\\u00e9\\n"',
      'true',
      ' null ',
      '{"a":[1,{"b":false}],"c":"d"}',
      '{',
      '[1,]',
      '{"a":1,}',
      "{'a':1}",
      '01',
      '1.',
      '.5',
      '+1',
      '"\\x"',
      '"a\tb"',
      '"abc',
      'tru',
      '{"a" 1}',
      '{"a":1 "b":2}',
      '[1 2]',
      '{} {}',
      'NaN',
      '"\\u12"',
      '{"a":}',
    ]
    for (const text of samples) {
      let parses = true
      try {
        JSON.parse(text)
      } catch {
        parses = false
      }
      expect({ text, error: locateJsonError(text) !== null }).toStrictEqual({
        text,
        error: !parses,
      })
    }
  })

  it('names line, column and reason', () => {
    expect(describeJsonError('{\n  "a": 1,\n  "b": tru\n}')).toBe(
      'The body is not valid JSON at line 3, column 8: expected a value but found "t".',
    )
    expect(describeJsonError('[1, 2')).toBe(
      'The body is not valid JSON at line 1, column 6: expected "," or "]" but found the end of the body.',
    )
  })
})

describe('readJsonBody', () => {
  const app = new Hono()
  app.post('/', async (c) =>
    c.json(await readJsonBody(c, z.object({ n: z.number() }), { maxBytes: 16 })),
  )
  app.onError((err, c) => c.json({ status: err instanceof Problem ? err.status : 500 }))

  it('takes the size limit as a parameter', async () => {
    const send = (body: string) =>
      app.request('/', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(await (await send('{"n":1}')).json()).toStrictEqual({ n: 1 })
    expect(await (await send(`{"n":1${' '.repeat(20)}}`)).json()).toStrictEqual({ status: 413 })
  })

  it('refuses bytes that are not UTF-8', async () => {
    const response = await app.request('/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    })
    expect(await response.json()).toStrictEqual({ status: 400 })
  })
})
