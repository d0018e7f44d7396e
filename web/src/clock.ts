// The service's clock as the shell shows it (演练模式 banner); refreshed when it moves.
import { reactive } from 'vue'
import { clock as readClock, type ClockView } from './api/adapters/clock'
import { isAdmin } from './roles'

export const clockState = reactive({ view: null as ClockView | null })

export async function refreshClock(): Promise<void> {
  try {
    clockState.view = await readClock(isAdmin())
  } catch {
    // The banner is a courtesy; a failed read leaves the last one (a 401 signs out anyway).
  }
}

/** The service's "now" (the rehearsal clock's time when simulated); null when unknown (a
 * rehearsal the caller may not read the clock of). */
export function serviceNow(): Date | null {
  const v = clockState.view
  if (!v) return null
  return v.mode === 'simulated' ? new Date(v.now) : new Date()
}
