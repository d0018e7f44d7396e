// The service's clock: GET /api/v1/clock, for everyone signed in (web/BACKEND-CONTRACT.md §3).
//
// ADAPTER — DELETE THE FALLBACK WHEN THE SERVER HAS GET /api/v1/clock. Until then only the
// province can read the rehearsal clock (GET /api/v1/admin/clock, 404 on the system clock);
// other people are told nothing and see no 演练模式 banner.
import { raw, ApiError } from '../client'

export interface ClockView {
  mode: 'system' | 'simulated'
  now: string
  now_local: string
}

let serverHasClock: boolean | null = null

export async function clock(admin: boolean): Promise<ClockView | null> {
  if (serverHasClock !== false) {
    try {
      const c = await raw<ClockView>('GET', '/api/v1/clock')
      serverHasClock = true
      return c
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) throw e
      serverHasClock = false
    }
  }
  if (!admin) return null
  try {
    return await raw<ClockView>('GET', '/api/v1/admin/clock')
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { mode: 'system', now: new Date().toISOString(), now_local: '' }
    throw e
  }
}
