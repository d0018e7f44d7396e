// JSON Pointers (RFC 6901) and reading schemas by them.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
export type Schema = Record<string, any>

export const escapeSeg = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1')
export const unescapeSeg = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~')

export function toPointer(path: (string | number)[]): string {
  return path.map((p) => '/' + escapeSeg(String(p))).join('')
}

export function fromPointer(pointer: string): string[] {
  if (!pointer) return []
  return pointer.split('/').slice(1).map(unescapeSeg)
}

export function getAt(root: unknown, path: (string | number)[]): any {
  let cur: any = root
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = cur[seg as any]
  }
  return cur
}

/** Sets a value deep inside `root`, making objects and arrays on the way; `undefined` deletes. */
export function setAt(root: any, path: (string | number)[], value: unknown): void {
  let cur = root
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]
    if (cur[seg] === null || typeof cur[seg] !== 'object') {
      cur[seg] = typeof path[i + 1] === 'number' ? [] : {}
    }
    cur = cur[seg]
  }
  const last = path[path.length - 1]
  if (value === undefined) {
    if (Array.isArray(cur)) cur[last as number] = undefined
    else delete cur[last]
  } else {
    cur[last] = value
  }
}

/** The schema node that describes the value at `path`, following properties and items. */
export function schemaAt(schema: Schema | undefined, path: (string | number)[]): Schema | undefined {
  let cur = schema
  for (const seg of path) {
    if (!cur) return undefined
    if (cur.properties && typeof seg === 'string' && cur.properties[seg]) cur = cur.properties[seg]
    else if (cur.items && (typeof seg === 'number' || /^\d+$/.test(String(seg)))) cur = cur.items
    else return undefined
  }
  return cur
}

/** Property names of an object schema in reading order: `required` first (authors write it in
 * reading order, and the server may send properties sorted by name), then the rest. */
export function orderedKeys(schema: Schema): string[] {
  const props = Object.keys(schema.properties ?? {})
  const req: string[] = (schema.required ?? []).filter((k: string) => props.includes(k))
  const orderHint: string[] | undefined = schema['x-order']
  if (Array.isArray(orderHint)) {
    return [...orderHint.filter((k) => props.includes(k)), ...props.filter((k) => !orderHint.includes(k))]
  }
  return [...req, ...props.filter((k) => !req.includes(k))]
}

/** The choices of a string/number field: `oneOf` of `const` with `title`, or `enum`. */
export function choicesOf(schema: Schema | undefined): { value: any; label: string; hint?: string }[] | null {
  if (!schema) return null
  const alts = schema.oneOf ?? schema.anyOf
  if (Array.isArray(alts) && alts.length && alts.every((a: Schema) => a && 'const' in a)) {
    return alts.map((a: Schema) => ({ value: a.const, label: a.title ?? String(a.const), hint: a.description }))
  }
  if (Array.isArray(schema.enum)) return schema.enum.map((v: Json) => ({ value: v, label: String(v) }))
  return null
}

export function typeOf(schema: Schema | undefined): string | undefined {
  if (!schema) return undefined
  if (typeof schema.type === 'string') return schema.type
  if (Array.isArray(schema.type)) return schema.type.find((t: string) => t !== 'null')
  if (schema.properties) return 'object'
  if (schema.items) return 'array'
  if ('const' in schema) return typeof schema.const
  return undefined
}

/** An object whose every property is a number with a maximum: a score sheet's criteria. */
export function isRubric(schema: Schema | undefined): boolean {
  if (!schema || typeOf(schema) !== 'object' || !schema.properties) return false
  const props = Object.values(schema.properties) as Schema[]
  return (
    props.length > 0 &&
    props.every((p) => (typeOf(p) === 'integer' || typeOf(p) === 'number') && typeof p.maximum === 'number')
  )
}

export function titleOf(schema: Schema | undefined, path: (string | number)[]): string {
  if (schema?.title) return schema.title
  const last = path[path.length - 1]
  return last === undefined ? '表单' : String(last)
}
