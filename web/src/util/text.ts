// Counting written characters the way the server does: Rust's `char::is_whitespace` is the
// Unicode White_Space property, which `\p{White_Space}` matches exactly (JavaScript's `\s`
// differs on U+FEFF and U+0085). Characters are code points, not UTF-16 units.
const WHITE = /\p{White_Space}/u

export function nonBlankChars(text: string): number {
  let n = 0
  for (const ch of text) if (!WHITE.test(ch)) n++
  return n
}

/** Every string inside a JSON value, counted together. */
export function textChars(value: unknown): number {
  if (typeof value === 'string') return nonBlankChars(value)
  if (Array.isArray(value)) return value.reduce((s: number, v) => s + textChars(v), 0)
  if (value && typeof value === 'object') {
    return Object.values(value as Record<string, unknown>).reduce((s: number, v) => s + textChars(v), 0)
  }
  return 0
}

export function humanSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / 1024 / 1024).toFixed(1)} MB`
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KB`
  return `${bytes} 字节`
}
