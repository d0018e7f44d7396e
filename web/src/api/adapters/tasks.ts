// The caller's to-do list: GET /api/v1/tasks (web/BACKEND-CONTRACT.md §2).
//
// ADAPTER — DELETE `fromCases` WHEN THE SERVER HAS GET /api/v1/tasks. Until then the list is
// put together here from GET /api/v1/cases and one GET /api/v1/cases/{id} per case, which is
// slow with many cases and only as fresh as those reads.
import { api, ok, raw, ApiError, type ActionRef, type CaseSummary, type CaseView, type DeadlineView } from '../client'

export interface NextDeadline {
  name: string
  label: string
  due: string
  due_local: string
  days_left: number
}

export type TaskItem = CaseSummary & {
  next_deadline: NextDeadline | null
  available_actions: ActionRef[]
}

export interface TaskList {
  items: TaskItem[]
  total: number
  page: number
  per_page: number
}

export interface TaskQuery {
  page?: number
  per_page?: number
}

let serverHasTasks: boolean | null = null

export async function tasks(q: TaskQuery = {}): Promise<TaskList> {
  const page = q.page ?? 1
  const per_page = q.per_page ?? 20
  if (serverHasTasks !== false) {
    try {
      const out = await raw<TaskList>('GET', `/api/v1/tasks?page=${page}&per_page=${per_page}`)
      serverHasTasks = true
      return out
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e
      serverHasTasks = false
    }
  }
  return fromCases(page, per_page)
}

/** The deadline a to-do row shows: the soonest running one the caller's role answers for,
 * else the soonest of all. */
export function nextDeadline(deadlines: DeadlineView[], role: string | undefined): NextDeadline | null {
  const sorted = [...deadlines].sort((a, b) => a.due.localeCompare(b.due))
  const d = sorted.find((x) => role && x.responsible.includes(role)) ?? sorted[0]
  return d ? { name: d.name, label: d.label, due: d.due, due_local: d.due_local, days_left: d.days_left } : null
}

async function fromCases(page: number, per_page: number): Promise<TaskList> {
  const summaries: CaseSummary[] = []
  for (let p = 1; p <= 10; p++) {
    const list = await ok(api.GET('/api/v1/cases', { params: { query: { page: p, per_page: 100 } } }))
    summaries.push(...list.items)
    if (p * list.per_page >= list.total) break
  }
  const me = await ok(api.GET('/api/v1/me'))
  const views: CaseView[] = []
  const queue = [...summaries]
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const id = s.id
        views.push(await ok(api.GET('/api/v1/cases/{id}', { params: { path: { id } } })))
      }
    }),
  )
  const items: TaskItem[] = views
    .filter((v) => v.available_actions.length > 0)
    .map((v) => ({
      id: v.id,
      workflow: v.workflow,
      state: v.state,
      state_label: v.state_label,
      title: v.title,
      org_unit: v.org_unit,
      org_unit_name: v.org_unit_name,
      round: v.round,
      version: v.version,
      created_at: v.created_at,
      updated_at: v.updated_at,
      next_deadline: nextDeadline(v.deadlines, me.role),
      available_actions: v.available_actions,
    }))
  items.sort((a, b) => {
    const da = a.next_deadline?.due
    const db = b.next_deadline?.due
    if (da && db) return da.localeCompare(db) || a.id.localeCompare(b.id)
    if (da) return -1
    if (db) return 1
    return b.updated_at.localeCompare(a.updated_at) || a.id.localeCompare(b.id)
  })
  const start = (page - 1) * per_page
  return { items: items.slice(start, start + per_page), total: items.length, page, per_page }
}
