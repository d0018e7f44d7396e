// Times for people: always Beijing time (Asia/Shanghai), whatever the browser's zone.

const fmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})
const dayFmt = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
})

function parts(f: Intl.DateTimeFormat, d: Date): Record<string, string> {
  const out: Record<string, string> = {}
  for (const p of f.formatToParts(d)) out[p.type] = p.value
  return out
}

/** `2027-09-30 23:59`, Beijing time. */
export function beijing(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = parts(fmt, d)
  const hour = p.hour === '24' ? '00' : p.hour
  return `${p.year}-${p.month}-${p.day} ${hour}:${p.minute}`
}

/** `2027-09-30`, the Beijing calendar date. */
export function beijingDate(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = parts(dayFmt, d)
  return `${p.year}-${p.month}-${p.day}`
}

/** The Beijing calendar year of a time. */
export function beijingYear(iso: string): number {
  return Number(beijingDate(iso).slice(0, 4))
}

export interface Countdown {
  text: string
  type: 'danger' | 'warning' | 'success' | 'info'
}

/** The countdown tag of a deadline: red within 1 day, orange within 7, 已逾期 once past. */
export function countdown(daysLeft: number | null | undefined, due?: string, now?: Date | null): Countdown | null {
  if (daysLeft === null || daysLeft === undefined) return null
  const past = due && now ? new Date(due).getTime() < now.getTime() : daysLeft < 0
  if (past) return { text: daysLeft < 0 ? `已逾期 ${-daysLeft} 天` : '已逾期', type: 'danger' }
  if (daysLeft <= 1) return { text: daysLeft <= 0 ? '今日到期' : `剩 ${daysLeft} 天`, type: 'danger' }
  if (daysLeft <= 7) return { text: `剩 ${daysLeft} 天`, type: 'warning' }
  return { text: `剩 ${daysLeft} 天`, type: 'success' }
}
