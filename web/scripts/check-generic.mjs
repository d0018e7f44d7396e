// The UI knows no workflow: no workflow key, state, region, form, action, variable or deadline
// name of any definition in workflows/ may appear as a string in web/src.
//   npm run check:generic
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const src = join(root, 'web/src')
const names = new Set()
for (const f of readdirSync(join(root, 'workflows'))) {
  if (!/\.ya?ml$/.test(f)) continue
  const text = readFileSync(join(root, 'workflows', f), 'utf8')
  const key = /^key:\s*(\S+)/m.exec(text)
  if (key) names.add(key[1])
  for (const m of text.matchAll(/^\s*-\s+name:\s*(\w+)/gm)) names.add(m[1])
  // Mapping keys inside the sections that name things.
  let section = ''
  for (const line of text.split('\n')) {
    const top = /^(\w+):/.exec(line)
    if (top) {
      section = top[1]
      continue
    }
    if (!['states', 'regions', 'forms', 'variables', 'deadlines', 'roles', 'expertise'].includes(section)) continue
    const m = /^\s+(\w+):\s*(\{|$)/.exec(line)
    if (m && !['states', 'label', 'active_in', 'due', 'remind', 'offset'].includes(m[1])) names.add(m[1])
  }
}
// The server's own vocabulary that happens to share a word with a definition: a score sheet's
// status (`draft`, SheetView and PanelMember), the document number of POST /decisions
// (`document_number`, DecisionRequest), the expert of a sheet (`expert`, SheetScore and
// ReopenRequest).
const apiWords = new Set(['draft', 'document_number', 'expert'])
// The service's user roles (api/src/auth.rs `Role`), which the menus are chosen by (src/roles.ts).
const roleFile = join(src, 'roles.ts')

function* files(dir) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f)
    if (statSync(p).isDirectory()) yield* files(p)
    else if (/\.(ts|vue)$/.test(f)) yield p
  }
}
const found = []
for (const file of files(src)) {
  const lines = readFileSync(file, 'utf8').split('\n')
  lines.forEach((line, i) => {
    for (const n of names) {
      if (apiWords.has(n) || (file === roleFile)) continue
      const re = new RegExp(`['"\`]/?${n.replace(/[-]/g, '\\-')}['"\`]`)
      if (re.test(line) && !/^\s*(\/\/|\*|<!--)/.test(line)) found.push(`${file.slice(root.length)}:${i + 1}: ${n}: ${line.trim()}`)
    }
  })
}
console.log(`${names.size} names from workflows/ checked against web/src`)
if (found.length) {
  console.error(found.join('\n'))
  process.exit(1)
}
console.log('web/src names no workflow, state or action')
