// Shared steps of the browser suite: signing in, screenshots of every screen, axe scans.
import { expect, type Page, type Browser, type BrowserContext, type Locator } from '@playwright/test'
import AxeBuilder from '@axe-core/playwright'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const PASSWORD = process.env.PF_E2E_PASSWORD ?? 'pilotflow-demo'
export const SHOTS = fileURLToPath(new URL('../../target/e2e/', import.meta.url))
mkdirSync(SHOTS, { recursive: true })

export async function signIn(page: Page, username: string): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('用户名').fill(username)
  await page.getByLabel('密码').fill(PASSWORD)
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page.getByRole('heading', { name: '待办' })).toBeVisible()
}

/** Opens 待办, signing in again if the session has ended (as a clock move past its expiry
 * does until the rules issue keeps logins alive across one). */
export async function stillSignedIn(page: Page, username: string): Promise<void> {
  await page.goto('/todo')
  const login = page.getByRole('button', { name: '登录' })
  const todo = page.getByRole('heading', { name: '待办' })
  await expect(login.or(todo)).toBeVisible()
  if (await login.isVisible()) await signIn(page, username)
}

export async function newSession(browser: Browser, username: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext()
  const page = await context.newPage()
  await signIn(page, username)
  return { context, page }
}

const scanned: { name: string; violations: string[] }[] = []

/** A screenshot of the screen as a person sees it, and an axe scan with no serious or
 * critical violation. */
export async function screen(page: Page, name: string): Promise<void> {
  const t0 = Date.now()
  await page.waitForLoadState('networkidle').catch(() => undefined)
  await expect(page.locator('.el-loading-mask:visible')).toHaveCount(0, { timeout: 10_000 }).catch(() => undefined)
  await page
    .waitForFunction(() => [...document.querySelectorAll('.el-message, .el-overlay, .el-popper')].every((e) => getComputedStyle(e).opacity === '1' || getComputedStyle(e).display === 'none'), null, { timeout: 5_000 })
    .catch(() => undefined)
  const t1 = Date.now()
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true })
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  if (process.env.PF_E2E_TIMING) console.log(`${name}: settle ${t1 - t0} ms, shot+axe ${Date.now() - t1} ms`)
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  const lines = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
  scanned.push({ name, violations: lines })
  expect(lines, `axe: serious or critical violations on ${name}`).toEqual([])
}

/** The dialog currently open (Element Plus keeps closed ones in the DOM, hidden). */
export function dialog(page: Page, title: string | RegExp) {
  return page.getByRole('dialog', { name: title })
}

/** Opens a case from the 待办 list or a case list by its title. */
export async function openCase(page: Page, title: string): Promise<void> {
  await page.getByRole('link', { name: title }).first().click()
  await expect(page.getByRole('heading', { name: title, level: 1 })).toBeVisible()
}

/** Takes an action on the open case page: the button, the form (via `fill`), 下一步, 确认办理. */
export async function act(page: Page, label: string, fill?: (d: ReturnType<typeof dialog>) => Promise<void>, comment?: string) {
  await page.locator('.case-head').getByRole('button', { name: label, exact: true }).click()
  const d = dialog(page, label)
  await expect(d).toBeVisible()
  if (fill) await fill(d)
  if (comment) await d.getByLabel('办理意见').fill(comment)
  await d.getByRole('button', { name: '下一步' }).click()
  await d.getByRole('button', { name: '确认办理' }).click()
  return d
}

const whole = (name: string | RegExp) => (typeof name === 'string' ? new RegExp(`^\\s*${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) : name)

/** Ticks an Element Plus checkbox by its text (its input is hidden; a person clicks the label). */
export async function tick(scope: Page | Locator, name: string | RegExp, on = true): Promise<void> {
  const label = scope.locator('label.el-checkbox').filter({ hasText: whole(name) }).first()
  const checked = await label.evaluate((el) => el.classList.contains('is-checked'))
  if (checked !== on) await label.click()
}

/** Chooses an Element Plus radio by its text. */
export async function pick(scope: Page | Locator, name: string | RegExp): Promise<void> {
  await scope.locator('label.el-radio, label.el-radio-button').filter({ hasText: whole(name) }).first().click()
}
