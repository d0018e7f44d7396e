// Workflow definitions as the server describes them (GET /api/v1/workflows/{key}): the labels
// of states, roles and actions, the forms and every action's input schema. The application
// knows no workflow by name; everything it shows of one comes from here.
import { api, ok, ApiError, type WorkflowDetail, type ActionRef, type Schemas } from './client'
import type { Schema } from '../schema/pointer'

export type ActionInfo = Schemas['ActionInfo'] & {
  input_schema?: Schema | null
  /** Planned (web/BACKEND-CONTRACT.md §4): the input field that carries the 文号. */
  document?: string | null
  /** Planned (web/BACKEND-CONTRACT.md §4): whether the action is a scored review. */
  review?: boolean
}
export type FormInfo = Schemas['FormInfo'] & { schema: Schema }
export type Workflow = Omit<WorkflowDetail, 'actions' | 'forms'> & { actions: ActionInfo[]; forms: FormInfo[] }

const details = new Map<string, Promise<Workflow>>()
let list: Promise<Schemas['WorkflowSummary'][]> | null = null

export function workflowList(): Promise<Schemas['WorkflowSummary'][]> {
  list ??= ok(api.GET('/api/v1/workflows')).catch((e) => {
    list = null
    throw e
  })
  return list
}

export function workflow(key: string): Promise<Workflow> {
  let p = details.get(key)
  if (!p) {
    p = ok(api.GET('/api/v1/workflows/{key}', { params: { path: { key } } })).then((w) => w as unknown as Workflow)
    p.catch(() => details.delete(key))
    details.set(key, p)
  }
  return p
}

export async function allWorkflows(): Promise<Workflow[]> {
  const summaries = await workflowList()
  return Promise.all(summaries.map((s) => workflow(s.key)))
}

export function stateLabel(wf: Workflow | undefined, name: string): string {
  return wf?.states.find((s) => s.name === name)?.label ?? name
}

export function roleLabel(wf: Workflow | undefined, name: string | null | undefined): string {
  if (!name) return ''
  return wf?.roles.find((r) => r.name === name)?.label ?? name
}

export function actionLabel(wf: Workflow | undefined, name: string | null | undefined): string {
  if (!name) return ''
  return wf?.actions.find((a) => a.name === name)?.label ?? name
}

/** The definition of an offered action: the one of that name leaving a state the case is in. */
export function actionInfo(wf: Workflow, ref: Pick<ActionRef, 'name'>, states: string[]): ActionInfo | undefined {
  const named = wf.actions.filter((a) => a.name === ref.name)
  return named.find((a) => a.from.some((s) => states.includes(s))) ?? named[0]
}

/** The input field of an action that carries the document number (文号), if it has one. */
export function documentField(a: ActionInfo | undefined): string | null {
  if (!a) return null
  if (a.document !== undefined) return a.document ?? null
  // ADAPTER until GET /workflows/{key} says it (BACKEND-CONTRACT.md §4): the required string
  // property whose title is 文号.
  const s = a.input_schema
  const props = (s?.properties ?? {}) as Record<string, Schema>
  const req: string[] = s?.required ?? []
  return Object.keys(props).find((k) => req.includes(k) && props[k].type === 'string' && /文号/.test(props[k].title ?? '')) ?? null
}

const reviewProbe = new Map<string, Promise<boolean>>()
/** Whether an action is a scored review (the expert fills a score sheet, saved as drafts). */
export function isReview(wf: Workflow, action: string, caseId: string): Promise<boolean> {
  const a = wf.actions.find((x) => x.name === action)
  if (a && typeof a.review === 'boolean') return Promise.resolve(a.review)
  // ADAPTER until GET /workflows/{key} says it (BACKEND-CONTRACT.md §4): the sheet endpoint
  // knows; "not saved yet" (404) means it is a review, `no_review` (422) that it is not.
  const key = `${wf.key}\u0000${action}`
  let p = reviewProbe.get(key)
  if (!p) {
    p = ok(
      api.GET('/api/v1/cases/{id}/reviews/{action}/sheet', { params: { path: { id: caseId, action } } }),
    ).then(
      () => true,
      (e) => e instanceof ApiError && e.status === 404 && e.code !== 'case_not_found',
    )
    reviewProbe.set(key, p)
  }
  return p
}

/** The first scored review action of a workflow that the province manages panels for. */
export async function reviewActions(wf: Workflow, caseId: string): Promise<string[]> {
  const out: string[] = []
  for (const a of wf.actions) {
    if (out.includes(a.name)) continue
    if (a.review === true) out.push(a.name)
  }
  if (out.length || wf.actions.some((a) => typeof a.review === 'boolean')) return out
  // ADAPTER (BACKEND-CONTRACT.md §4): ask the scores endpoint for the default review.
  try {
    const s = await ok(api.GET('/api/v1/cases/{id}/scores', { params: { path: { id: caseId }, query: {} } }))
    return [s.action]
  } catch {
    return []
  }
}
