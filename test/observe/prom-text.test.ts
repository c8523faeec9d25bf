import { describe, expect, it } from 'vitest'
import { parseExposition, sampleValue } from './prom-text.ts'

/* The test parser must refuse what Prometheus refuses, or the metrics tests could not fail. */

const VALID = `# HELP req_total Requests.
# TYPE req_total counter
req_total{route="/a",status="200"} 3
req_total{route="/b\\"q\\\\",status="500"} 1
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.1"} 1
lat_seconds_bucket{le="1"} 2
lat_seconds_bucket{le="+Inf"} 2
lat_seconds_sum 0.6
lat_seconds_count 2
up 1 1700000000000
`

describe('parseExposition', () => {
  it('reads families, types, labels (with escapes) and values', () => {
    const families = parseExposition(VALID)
    expect([...families.keys()]).toStrictEqual(['req_total', 'lat_seconds', 'up'])
    expect(families.get('req_total')).toMatchObject({ type: 'counter', help: 'Requests.' })
    expect(sampleValue(families, 'req_total', { route: '/b"q\\', status: '500' })).toBe(1)
    expect(sampleValue(families, 'lat_seconds_count')).toBe(2)
    expect(families.get('up')?.type).toBe('untyped')
  })

  it.each([
    ['a bad metric name', 'req-total 1\n'],
    ['an unquoted label value', 'req_total{route=a} 1\n'],
    ['a bad escape', 'req_total{route="\\x"} 1\n'],
    ['a value that is not a number', 'req_total 1,5\n'],
    ['no newline at the end', 'req_total 1'],
    ['a TYPE after the samples', 'req_total 1\n# TYPE req_total counter\n'],
    ['a family split in two', 'a 1\nb 1\na{x="1"} 1\n'],
    ['a duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['a negative counter', '# TYPE c counter\nc -1\n'],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    [
      'a count that differs from +Inf',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
    ],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'],
  ])('refuses %s', (_, text) => {
    expect(() => parseExposition(text)).toThrow()
  })
})
