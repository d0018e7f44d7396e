// The one HTTP client of the application: openapi-fetch over the generated types.
//
// The server's cookie session: requests carry the session cookie (`credentials: 'same-origin'`)
// and no Authorization header; the browser adds the `Origin` header the server's CSRF check
// reads on POST, PUT, PATCH and DELETE. No token is ever held by page scripts.
import createClient, { type Middleware } from 'openapi-fetch'
import type { paths, components } from '../../types/openapi'

export type Schemas = components['schemas']
export type CaseView = Schemas['CaseView']
export type CaseSummary = Schemas['CaseSummary']
export type ActionRef = Schemas['ActionRef']
export type DeadlineView = Schemas['DeadlineView']
export type Caller = Schemas['Caller']
export type HistoryEntry = Schemas['HistoryEntry']
export type WorkflowDetail = Schemas['WorkflowDetail']
export type ProblemField = Schemas['ProblemField']

/** An RFC 9457 problem the server answered with. */
export class ApiError extends Error {
  status: number
  code: string
  errors: ProblemField[]
  body: Record<string, any>
  constructor(status: number, body: Record<string, any> | undefined) {
    const detail = body?.detail ?? (status === 0 ? '无法连接服务器,请检查网络' : `服务器返回错误(${status})`)
    super(detail)
    this.status = status
    this.code = body?.code ?? 'http_' + status
    this.errors = Array.isArray(body?.errors) ? body!.errors : []
    this.body = body ?? {}
  }
}

type Listener = (e: ApiError) => void
const unauthenticated: Listener[] = []
/** Called when the session has expired or was revoked (401 on anything but the login). */
export function onUnauthenticated(fn: Listener) {
  unauthenticated.push(fn)
}

const sessionWatch: Middleware = {
  async onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.endsWith('/auth/login')) {
      const body = await response
        .clone()
        .json()
        .catch(() => undefined)
      for (const fn of unauthenticated) fn(new ApiError(401, body))
    }
    return response
  },
}

export const api = createClient<paths>({
  baseUrl: typeof window === 'undefined' ? '' : window.location.origin,
  credentials: 'same-origin',
  headers: { 'Accept-Language': 'zh-CN' },
})
api.use(sessionWatch)

/** Unwraps an openapi-fetch answer: its data, or an ApiError. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<NonNullable<T>> {
  let res
  try {
    res = await call
  } catch (e) {
    throw new ApiError(0, { detail: '无法连接服务器,请检查网络后重试' })
  }
  if (res.error !== undefined || !res.response.ok) {
    throw new ApiError(res.response.status, (res.error ?? undefined) as Record<string, any> | undefined)
  }
  return res.data as NonNullable<T>
}

/** A new Idempotency-Key: one per dialog, so a retried click does the action once. */
export function newKey(): string {
  const c = globalThis.crypto
  if (c?.randomUUID) return c.randomUUID()
  const bytes = new Uint8Array(16)
  c.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The message to show a person for any failure. */
export function describe(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof Error) return e.message
  return String(e)
}
