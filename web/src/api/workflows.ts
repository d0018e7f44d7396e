// Workflow definitions as the server describes them (GET /api/v1/workflows/{key}): the labels
// of states, roles and actions, the forms and every action's input schema. The application
// knows no workflow by name; everything it shows of one comes from here.
import { api, ok, type WorkflowDetail, type ActionRef, type Schemas } from './client'
import type { Schema } from '../schema/pointer'

export type ActionInfo = Omit<Schemas['ActionInfo'], 'input_schema'> & { input_schema?: Schema | null }
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
  return a?.document ?? null
}

/** Whether a workflow has a scored review (experts fill score sheets; the province manages
 * the panels and reads the scores). */
export function hasReview(wf: Workflow): boolean {
  return wf.actions.some((a) => a.review)
}
