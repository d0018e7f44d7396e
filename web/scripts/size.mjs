// The JavaScript each page needs before it shows, gzipped: the entry with its static imports
// (the login page), and the entry plus a route's chunk and its static imports (e.g. 待办).
//   npm run size            (after npm run build)
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))
const manifest = JSON.parse(readFileSync(dist + '.vite/manifest.json', 'utf8'))
const entry = Object.keys(manifest).find((k) => manifest[k].isEntry)

function closure(key, seen = new Set()) {
  if (seen.has(key)) return seen
  seen.add(key)
  for (const i of manifest[key].imports ?? []) closure(i, seen)
  return seen
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`
function measure(keys) {
  let raw = 0
  let gz = 0
  for (const k of keys) {
    const buf = readFileSync(dist + manifest[k].file)
    raw += buf.length
    gz += gzipSync(buf, { level: 9 }).length
  }
  return { raw, gz }
}
const pages = {
  '登录(首屏)': [...closure(entry)],
  '待办(登录后首页)': [...new Set([...closure(entry), ...closure('src/views/TodoView.vue')])],
  '案卷页': [...new Set([...closure(entry), ...closure('src/views/CaseView.vue')])],
  '填写材料': [...new Set([...closure(entry), ...closure('src/views/FormEditView.vue')])],
}
let worst = 0
for (const [name, keys] of Object.entries(pages)) {
  const { raw, gz } = measure(keys)
  worst = Math.max(worst, gz)
  console.log(`${name}: ${keys.length} 个文件, ${kb(raw)}, gzip ${kb(gz)}`)
}
const all = Object.keys(manifest).filter((k) => manifest[k].file.endsWith('.js'))
console.log(`全部 JS: ${all.length} 个文件, gzip ${kb(measure(all).gz)}(Mermaid 等按需加载)`)
const css = [...new Set(Object.values(manifest).flatMap((m) => m.css ?? []))]
console.log(`CSS: ${css.map((f) => `${f} gzip ${kb(gzipSync(readFileSync(dist + f), { level: 9 }).length)}`).join(', ')}`)
if (worst > 400 * 1024) {
  console.error('a first page is over 400 KB of gzipped JavaScript')
  process.exit(1)
}
