// The server's Mermaid text, made ready to draw.

const ID = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Appends `classDef` and `class` lines: the current state(s), and those already passed. */
export function highlight(text: string, current: string[], visited: string[]): string {
  const lines = [
    'classDef current fill:#ffe3b3,stroke:#9a5b00,stroke-width:3px,color:#2b1a00,font-weight:bold',
    'classDef visited fill:#e3efe4,stroke:#276b2b,color:#12351a',
  ]
  const now = current.filter((s) => ID.test(s))
  const past = visited.filter((s) => ID.test(s) && !now.includes(s))
  if (past.length) lines.push(`class ${past.join(',')} visited`)
  if (now.length) lines.push(`class ${now.join(',')} current`)
  return text.replace(/\s*$/, '\n') + lines.map((l) => '    ' + l).join('\n') + '\n'
}
