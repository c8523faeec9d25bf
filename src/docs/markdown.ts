import { Marked, type Tokens } from 'marked'
import { slug } from './spec.ts'

/*
 * Markdown from openapi.yaml, rendered on the server. The document is ours and trusted, so its
 * HTML is passed through as written; the page's CSP forbids scripts anyway.
 */
const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    // Headings get ids so the table of contents can link to them.
    heading({ tokens, depth }: Tokens.Heading) {
      const text = this.parser.parseInline(tokens)
      return `<h${depth + 1} id="${headingId(plainText(tokens))}">${text}</h${depth + 1}>\n`
    },
  },
})

function plainText(tokens: Tokens.Generic[]): string {
  return tokens.map((t) => (typeof t.text === 'string' ? t.text : t.raw)).join('')
}

export function headingId(text: string): string {
  return `section/${slug(text)}`
}

/** Block Markdown (paragraphs, lists, tables, code) to HTML. Headings move one level down. */
export function markdown(text: string | undefined): string {
  if (!text) return ''
  return marked.parse(text) as string
}

/** Inline Markdown (`code`, emphasis, links) to HTML, for table cells. */
export function markdownInline(text: string | undefined): string {
  if (!text) return ''
  return marked.parseInline(text) as string
}

/** The level-2 headings of a Markdown text, for the table of contents. */
export function headings(text: string | undefined): { id: string; text: string }[] {
  if (!text) return []
  return marked
    .lexer(text)
    .filter((t): t is Tokens.Heading => t.type === 'heading' && t.depth === 2)
    .map((t) => ({ id: headingId(t.text), text: t.text }))
}
