// Reading one case with what its pages show: the case, its workflow, its saved forms.
import { api, ok, ApiError, type CaseView, type HistoryEntry } from './api/client'
import { workflow, type Workflow } from './api/workflows'

export interface Loaded {
  view: CaseView
  wf: Workflow
}

export async function loadCase(id: string): Promise<Loaded> {
  const view = await ok(api.GET('/api/v1/cases/{id}', { params: { path: { id } } }))
  const wf = await workflow(view.workflow.key)
  return { view, wf }
}

/** The names of the forms saved on a case (`data.forms`). */
export function savedForms(view: CaseView): string[] {
  const f = (view.data as Record<string, any>)?.forms
  if (Array.isArray(f)) return f.map(String)
  if (f && typeof f === 'object') return Object.keys(f)
  return []
}

export async function loadForm(id: string, form: string): Promise<Record<string, any> | null> {
  try {
    return (await ok(api.GET('/api/v1/cases/{id}/forms/{form}', { params: { path: { id, form } } }))) as Record<string, any>
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null
    throw e
  }
}

export async function loadForms(view: CaseView, wf: Workflow): Promise<Record<string, Record<string, any> | null>> {
  const saved = savedForms(view)
  const out: Record<string, Record<string, any> | null> = {}
  await Promise.all(
    wf.forms.map(async (f) => {
      out[f.name] = saved.length && !saved.includes(f.name) ? null : await loadForm(view.id, f.name)
    }),
  )
  return out
}

export async function loadHistory(id: string): Promise<HistoryEntry[]> {
  return ok(api.GET('/api/v1/cases/{id}/history', { params: { path: { id } } }))
}

export const stateNames = (view: CaseView) => view.states.map((s) => s.name)
