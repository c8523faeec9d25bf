import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Problem } from './errors.ts'

/** Renders an RFC 9457 problem+json response. The request id ties it to our logs. */
export function problemResponse(c: Context, problem: Problem): Response {
  const body = {
    type: problem.extra.type ?? 'about:blank',
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    ...(problem.extra.errors ? { errors: problem.extra.errors } : {}),
    request_id: c.get('requestId') as string | undefined,
  }
  return new Response(JSON.stringify(body), {
    status: problem.status as ContentfulStatusCode,
    headers: {
      'content-type': 'application/problem+json',
      ...(body.request_id ? { 'x-request-id': body.request_id } : {}),
      ...problem.extra.headers,
    },
  })
}
