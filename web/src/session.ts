// Who is signed in, their unit and role label, and signing in and out (cookie session).
import { reactive } from 'vue'
import { api, ok, ApiError, type Caller, type Schemas } from './api/client'
import { allWorkflows } from './api/workflows'

type Unit = Schemas['OrgUnitNode']

export const session = reactive({
  user: null as Caller | null,
  unitName: '',
  roleLabel: '',
  units: new Map<string, { name: string; level: string; parent: string | null }>(),
  /** Why the person was sent to the login page (expired session). */
  notice: '',
  /** The notice to give instead, should the session end next (a clock move past it). */
  nextNotice: '',
  checked: false,
})

function flatten(nodes: Unit[], parent: string | null) {
  for (const n of nodes) {
    session.units.set(n.code, { name: n.name, level: n.level, parent })
    flatten((n.children ?? []) as Unit[], n.code)
  }
}

export function unitName(code: string | null | undefined): string {
  if (!code) return ''
  return session.units.get(code)?.name ?? code
}

async function describeUser(user: Caller) {
  session.user = user
  const [tree, wfs] = await Promise.all([
    ok(api.GET('/api/v1/org-units')).catch(() => [] as Unit[]),
    allWorkflows().catch(() => []),
  ])
  session.units.clear()
  flatten(tree as Unit[], null)
  session.unitName = unitName(user.org_unit)
  const role = wfs.flatMap((w) => w.roles).find((r) => r.name === user.role)
  session.roleLabel = role?.label ?? user.role
}

/** Restores the session from the cookie, if any (on opening the application). */
export async function restore(): Promise<boolean> {
  if (session.checked) return !!session.user
  try {
    const me = await ok(api.GET('/api/v1/me'))
    await describeUser(me)
  } catch {
    session.user = null
  }
  session.checked = true
  return !!session.user
}

export async function login(username: string, password: string): Promise<void> {
  // The session is an HttpOnly cookie the page never sees; the answer's user is all it keeps.
  const out = await ok(api.POST('/api/v1/auth/login', { body: { username, password, session: 'cookie' } }))
  session.notice = ''
  session.checked = true
  await describeUser(out.user)
}

export async function logout(): Promise<void> {
  try {
    await ok(api.POST('/api/v1/auth/logout'))
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e
  }
  session.user = null
}

export function expire(message: string) {
  session.user = null
  session.notice = session.nextNotice || message
  session.nextNotice = ''
}
