// Checks a document against its JSON Schema (draft 2020-12) in the browser, with Chinese
// messages that name each field by its schema `title`, as the server's own messages do. The
// server's answer stays the authority; this only spares a round trip.
import Ajv2020 from 'ajv/dist/2020'
import type { ErrorObject, ValidateFunction } from 'ajv'
import { escapeSeg, schemaAt, fromPointer, titleOf, type Schema } from './pointer'
import { textChars } from '../util/text'

export interface FieldProblem {
  pointer: string
  message: string
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
function validDate(s: string): boolean {
  const m = DATE.exec(s)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const dt = new Date(Date.UTC(y, mo - 1, d))
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d
}

let ajv: Ajv2020 | null = null
function instance(): Ajv2020 {
  if (ajv) return ajv
  ajv = new Ajv2020({ allErrors: true, strict: false, verbose: true, validateFormats: true })
  ajv.addFormat('date', { type: 'string', validate: validDate })
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(s) && !Number.isNaN(Date.parse(s)),
  })
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/)
  ajv.addKeyword({ keyword: 'x-weight', schemaType: 'number' })
  ajv.addKeyword({ keyword: 'x-order', schemaType: 'array' })
  ajv.addKeyword({
    keyword: 'x-minTextChars',
    schemaType: 'number',
    errors: true,
    validate: function check(min: number, data: unknown) {
      const n = textChars(data)
      if (n >= min) return true
      ;(check as any).errors = [{ keyword: 'x-minTextChars', params: { limit: min, count: n }, message: '' }]
      return false
    },
  })
  return ajv
}

const cache = new WeakMap<object, ValidateFunction | null>()

function compiled(schema: Schema): ValidateFunction | null {
  if (cache.has(schema)) return cache.get(schema)!
  let fn: ValidateFunction | null = null
  try {
    const copy = { ...schema }
    delete copy.$id
    fn = instance().compile(copy)
  } catch (e) {
    // A schema Ajv cannot compile (or a page policy forbidding compiled code): the server
    // checks on saving all the same.
    console.warn('表单校验规则无法在浏览器中编译,将以服务器校验为准', e)
  }
  cache.set(schema, fn)
  return fn
}

const typeZh: Record<string, string> = {
  array: '列表',
  boolean: '是/否',
  integer: '整数',
  null: '空值',
  number: '数字',
  object: '对象',
  string: '文本',
}

function message(root: Schema, e: ErrorObject): FieldProblem | null {
  const pointer = e.instancePath
  const node = (e.parentSchema as Schema | undefined) ?? schemaAt(root, fromPointer(pointer))
  const title = titleOf(node, fromPointer(pointer))
  const p = e.params as Record<string, any>
  switch (e.keyword) {
    case 'required': {
      const child = node?.properties?.[p.missingProperty]
      const childPointer = `${pointer}/${escapeSeg(p.missingProperty)}`
      return { pointer: childPointer, message: `「${titleOf(child, [p.missingProperty])}」为必填项` }
    }
    case 'additionalProperties':
      return {
        pointer: `${pointer}/${escapeSeg(p.additionalProperty)}`,
        message: `「${title}」中不允许出现字段「${p.additionalProperty}」`,
      }
    case 'type':
      return { pointer, message: `「${title}」应为${String(p.type).split(',').map((t) => typeZh[t] ?? t).join('或')}` }
    case 'minLength':
      return { pointer, message: `「${title}」至少需要 ${p.limit} 个字符` }
    case 'maxLength':
      return { pointer, message: `「${title}」不能超过 ${p.limit} 个字符` }
    case 'minimum':
      return { pointer, message: `「${title}」不能小于 ${p.limit}` }
    case 'maximum':
      return { pointer, message: `「${title}」不能大于 ${p.limit}` }
    case 'exclusiveMinimum':
      return { pointer, message: `「${title}」必须大于 ${p.limit}` }
    case 'exclusiveMaximum':
      return { pointer, message: `「${title}」必须小于 ${p.limit}` }
    case 'minItems':
      return { pointer, message: `「${title}」至少需要 ${p.limit} 项` }
    case 'maxItems':
      return { pointer, message: `「${title}」最多 ${p.limit} 项` }
    case 'uniqueItems':
      return { pointer, message: `「${title}」中有重复的项` }
    case 'pattern':
      return { pointer, message: node?.description ? `「${title}」格式不正确:${node.description}` : `「${title}」格式不正确` }
    case 'format':
      if (p.format === 'date') return { pointer, message: `「${title}」应为日期,格式如 2026-09-30` }
      if (p.format === 'date-time') return { pointer, message: `「${title}」应为日期时间,格式如 2026-09-30T23:59:59+08:00` }
      if (p.format === 'email') return { pointer, message: `「${title}」应为有效的电子邮件地址` }
      return { pointer, message: `「${title}」不符合格式 ${p.format}` }
    case 'const':
      if (node?.const === true) return { pointer, message: `「${title}」须确认(勾选)后方可办理` }
      return { pointer, message: `「${title}」的取值不在允许的范围内` }
    case 'enum':
    case 'oneOf':
    case 'anyOf':
      return { pointer, message: `「${title}」的取值不在允许的范围内` }
    case 'x-minTextChars':
      return {
        pointer,
        message: `「${title}」合计不少于 ${p.limit} 字(不含空白字符),当前 ${p.count} 字,还差 ${p.limit - p.count} 字`,
      }
    case 'if':
    case 'then':
    case 'else':
      return null
    default:
      return { pointer, message: `「${title}」不符合要求` }
  }
}

/** Every problem of `doc`, or `null` when the schema cannot be checked in the browser. */
export function check(schema: Schema, doc: unknown): FieldProblem[] | null {
  const fn = compiled(schema)
  if (!fn) return null
  if (fn(doc)) return []
  const errors = (fn.errors ?? []).filter(
    // The branches of a oneOf each fail for their own reason; the oneOf's own error says it.
    (e) => !/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath),
  )
  const out: FieldProblem[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    const m = message(schema, e)
    if (!m) continue
    const key = m.pointer + '\u0000' + m.message
    if (!seen.has(key)) {
      seen.add(key)
      out.push(m)
    }
  }
  return out
}

/** Drops empty strings, empty objects and holes, as a person leaves a field blank. */
export function prune(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : prune(v)))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = prune(v)
      if (p === undefined || p === '' || p === null) continue
      out[k] = p
    }
    return out
  }
  return value
}
