// The service's clock as the shell shows it (演练模式 banner, for everyone signed in);
// refreshed when it moves.
import { reactive } from 'vue'
import { api, ok, type Schemas } from './api/client'

export type ClockView = Schemas['ClockState']

export const clockState = reactive({ view: null as ClockView | null })

export async function refreshClock(): Promise<void> {
  try {
    clockState.view = await ok(api.GET('/api/v1/clock'))
  } catch {
    // The banner is a courtesy; a failed read leaves the last one (a 401 signs out anyway).
  }
}

/** The service's "now" (the rehearsal clock's time when simulated); null until first read. */
export function serviceNow(): Date | null {
  const v = clockState.view
  if (!v) return null
  return v.mode === 'simulated' ? new Date(v.now) : new Date()
}
