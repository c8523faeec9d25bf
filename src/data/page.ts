/**
 * A data page assembled from stored JSON strings, read from the database in chunks. A page that
 * fits in one chunk (the usual 7-day pull) is sent as one string; a larger one (a backfill with
 * samples: 500 records can be 25 MB) is streamed chunk by chunk, so memory stays bounded by a
 * chunk rather than a page. `next_token` is the last field of the object, so it can be written
 * once the last chunk is known.
 */

/** Rows read per query. */
export const CHUNK_ROWS = 50

export interface PageSource<R> {
  /** Up to `n + 1` rows after `after` (null: from the start); the extra row says there is more. */
  fetch(after: R | null, n: number): Promise<R[]>
  /** The record's stored JSON, or null for a deletion (changes feeds list those in `deleted`). */
  body(row: R): string | null
  key(row: R): string
  /** The opaque cursor that continues after `last`. */
  nextToken(last: R): Promise<string>
}

export interface PageOptions<R> {
  /** `{"user":…,"type":…` without the closing brace. */
  head: string
  limit: number
  /** Resume after this row (from the request's next_token). */
  after: R | null
  /** Whether to write `deleted` (the updated_since feed). */
  withDeleted: boolean
  onError: (err: unknown) => void
}

const encoder = new TextEncoder()

class PageWriter<R> {
  private emitted = 0
  private firstRecord = true
  private readonly deleted: string[] = []

  constructor(
    private readonly source: PageSource<R>,
    private readonly options: PageOptions<R>,
    private after: R | null,
  ) {}

  /** Renders one chunk; `done` when the page is complete (the text then closes the object). */
  async render(rows: R[], n: number): Promise<{ text: string; done: boolean }> {
    const chunk = rows.slice(0, n)
    let text = ''
    for (const row of chunk) {
      const body = this.source.body(row)
      if (body === null) {
        this.deleted.push(this.source.key(row))
        continue
      }
      text += this.firstRecord ? body : `,${body}`
      this.firstRecord = false
    }
    this.emitted += chunk.length
    this.after = chunk.at(-1) ?? this.after
    const more = rows.length > n
    if (more && this.emitted < this.options.limit) return { text, done: false }
    const next = more && this.after !== null ? await this.source.nextToken(this.after) : null
    const deleted = this.options.withDeleted ? `,"deleted":${JSON.stringify(this.deleted)}` : ''
    return { text: `${text}]${deleted},"next_token":${JSON.stringify(next)}}`, done: true }
  }

  nextSize(): number {
    return Math.min(CHUNK_ROWS, this.options.limit - this.emitted)
  }

  fetchNext(): Promise<R[]> {
    return this.source.fetch(this.after, this.nextSize())
  }
}

/** The page's body: a string when one chunk holds it, a stream otherwise. */
export async function pageBody<R>(
  source: PageSource<R>,
  options: PageOptions<R>,
): Promise<string | ReadableStream<Uint8Array>> {
  const writer = new PageWriter(source, options, options.after)
  const n = writer.nextSize()
  // The first chunk is read before answering, so a database error is still a proper 500.
  const first = await source.fetch(options.after, n)
  const opening = `${options.head},"data":[`
  const rendered = await writer.render(first, n)
  if (rendered.done) return opening + rendered.text
  let pending: string | null = opening + rendered.text
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (pending !== null) {
          controller.enqueue(encoder.encode(pending))
          pending = null
          return
        }
        const size = writer.nextSize()
        const { text, done } = await writer.render(await writer.fetchNext(), size)
        controller.enqueue(encoder.encode(text))
        if (done) controller.close()
      } catch (err) {
        // Headers are gone by now: the client sees a truncated body, and we log why.
        options.onError(err)
        controller.error(err)
      }
    },
  })
}
