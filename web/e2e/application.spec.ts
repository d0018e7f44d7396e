// The whole application path through the screens, with the four demo roles (one serial
// story: each test starts where the one before left the service), against the server itself:
// its cookie session, its to-do lists and its clock.
import { test, expect, type Page, type Browser } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { signIn, screen, openCase, act, dialog, newSession, tick, pick, stillSignedIn } from './helpers'

const examples = new URL('../../workflows/examples/pilot-zone/', import.meta.url)
const json = (p: string) => JSON.parse(readFileSync(new URL(p, examples), 'utf8'))
const application = json('forms/application.json')
const plan = json('forms/experiment_plan.json')

const TITLE_A = '南关区省级社区治理和服务创新实验区申报'
const TITLE_B = '南关区实验区申报(第二件)'
const DOC = '吉民发〔2027〕12号'

test.describe.configure({ mode: 'serial' })

async function newApplication(page: Page, title: string) {
  await page.getByRole('link', { name: '新建申报' }).click()
  await expect(page.getByRole('heading', { name: '新建申报' })).toBeVisible()
  await page.getByLabel('申报标题').fill(title)
  await page.getByRole('button', { name: '创建并填写申报材料' }).click()
  await expect(page.getByRole('heading', { name: title, level: 1 })).toBeVisible()
}

async function fillApplication(page: Page) {
  await page.getByRole('button', { name: '填写申请文件' }).click()
  await expect(page.getByRole('heading', { name: /申请文件/ })).toBeVisible()
  await page.getByLabel('申报单位').fill(application.unit_name)
  await page.getByLabel('申报理由').fill(application.reasons)
  await page.getByRole('button', { name: '+ 添加联系人信息' }).click()
  await page.getByLabel('联系人', { exact: true }).fill(application.contacts[0].name)
  await page.getByLabel('职务').fill(application.contacts[0].position)
  await page.getByLabel('联系电话').fill(application.contacts[0].phone)
  await pick(page.getByRole('radiogroup', { name: '是否地级市层面实验项目' }), '否')
  await pick(page.getByRole('radiogroup', { name: '由区县党委政府提出申请' }), '是')
  await expect(page.locator('.save-state')).toContainText('草稿已自动保存')
  await expect(page.getByText('已填写完整')).toBeVisible()
}

async function openPlan(page: Page) {
  await page.getByRole('button', { name: /实验方案$/ }).click()
  await expect(page.getByRole('heading', { name: /实验方案/ })).toBeVisible()
}

async function fillPlan(page: Page, short: boolean) {
  await page.getByLabel('实验名称').fill(plan.title)
  for (const label of ['提高社区治理水平', '增强社区自治功能', '创新社区党建工作']) {
    await tick(page, label)
  }
  const labels: Record<string, string> = {
    development: '发展状况',
    problems: '存在问题',
    goals: '主要目标',
    tasks: '基本任务',
    measures: '具体举措',
    schedule: '工作安排',
    leadership: '组织领导',
    funding: '经费投入',
  }
  for (const part of Object.values(plan.sections) as Record<string, string>[]) {
    for (const [k, text] of Object.entries(part)) {
      await page.getByLabel(labels[k], { exact: true }).fill(short ? text.slice(0, 60) : text)
    }
  }
}

test('district: new application, both forms with live checks, a refused .exe, submit', async ({ page }) => {
  await signIn(page, 'd220102')
  // The rehearsal clock is shown to everyone, not only to the province that moves it.
  await expect(page.locator('.rehearsal')).toContainText('演练模式')
  await expect(page.locator('.rehearsal')).toContainText('北京时间 2027-03-01')
  await screen(page, '01-district-todo')
  await newApplication(page, TITLE_A)
  await screen(page, '02-case-new')
  await fillApplication(page)
  await screen(page, '03-form-application')
  await page.getByRole('button', { name: '保存并返回案卷' }).click()

  // A short plan: the meter and the Chinese shortfall.
  await openPlan(page)
  await fillPlan(page, true)
  await expect(page.locator('.text-meter')).toContainText('已写')
  await expect(page.locator('.text-meter')).toContainText('/ 3000 字')
  await expect(page.locator('.text-meter .short')).toContainText('还差')
  await expect(page.locator('.form-side')).toContainText('合计不少于 3000 字')
  await screen(page, '04-form-plan-short')
  await fillPlan(page, false)
  await expect(page.locator('.text-meter')).toContainText('字数已达要求')
  await expect(page.locator('.save-state')).toContainText('草稿已自动保存')
  await expect(page.getByText('已填写完整')).toBeVisible()
  await page.getByRole('button', { name: '保存并返回案卷' }).click()
  await expect(page.getByRole('heading', { name: TITLE_A, level: 1 })).toBeVisible()

  // A program disguised as a PDF is refused by its content, in Chinese.
  await page.getByRole('tab', { name: '附件' }).click()
  await expect(page.locator('.upload-box')).toContainText('单个文件不超过 50 MB')
  await page.getByLabel('上传附件').setInputFiles({ name: '实验方案.pdf', mimeType: 'application/pdf', buffer: Buffer.from('MZ\x90\x00\x03\x00\x00\x00 this is a windows program') })
  await expect(page.locator('.attachments .hash')).toContainText('SHA-256')
  await page.getByRole('button', { name: '上传', exact: true }).click()
  await expect(page.locator('.attachments .outcome')).toContainText('上传被拒绝')
  await expect(page.locator('.attachments .outcome')).toContainText('按文件内容判断')
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n')
  await page.getByLabel('上传附件').setInputFiles({ name: '区委区政府申请文件.pdf', mimeType: 'application/pdf', buffer: pdf })
  await page.getByRole('button', { name: '上传', exact: true }).click()
  await expect(page.locator('.attachments .outcome')).toContainText('SHA-256 校验一致')
  await expect(page.getByRole('link', { name: '区委区政府申请文件.pdf' })).toBeVisible()
  await screen(page, '05-case-attachments')

  await act(page, '提交申请')
  await expect(page.locator('.case-head')).toContainText('市州审核')
  await screen(page, '06-case-submitted')
})

test('city: returns the application with an opinion', async ({ page }) => {
  await signIn(page, 'c220100')
  await expect(page.getByRole('link', { name: TITLE_A })).toBeVisible()
  await screen(page, '07-city-todo')
  await openCase(page, TITLE_A)
  await screen(page, '08-city-case')
  const d = await act(
    page,
    '退回修改',
    async (d) => {
      await d.getByLabel('退回理由').fill('实验方案中经费投入部分未明确资金来源和投入规模,请修改完善后重新报送。')
    },
    '请补充经费来源和规模后重新报送。',
  )
  await expect(d).toBeHidden()
  await expect(page.locator('.case-head')).toContainText('草稿')
})

test('district: sees the opinion in the timeline and submits again', async ({ page }) => {
  await signIn(page, 'd220102')
  await openCase(page, TITLE_A)
  await page.getByRole('tab', { name: '办理记录' }).click()
  await expect(page.locator('.history')).toContainText('请补充经费来源和规模后重新报送。')
  await expect(page.locator('.history')).toContainText('退回修改')
  await screen(page, '09-case-history')
  await act(page, '提交申请')
  await expect(page.locator('.case-head')).toContainText('市州审核')
})

test('city: forwards to the province with its opinion; lists its districts’ cases', async ({ page }) => {
  await signIn(page, 'c220100')
  await page.getByRole('link', { name: '辖区案卷' }).click()
  await expect(page.getByRole('link', { name: TITLE_A })).toBeVisible()
  await screen(page, '10-city-cases')
  await openCase(page, TITLE_A)
  await act(
    page,
    '审核通过并报省',
    async (d) => {
      await d.getByLabel('审核意见').fill('经审核,南关区申报材料齐全,实验方案主题明确、措施具体,同意推荐报省民政厅评审。')
      await pick(d.getByRole('radiogroup', { name: '是否推荐' }), '是')
      await d.getByLabel('经办人').fill('赵志强')
    },
    '同意报省。',
  )
  await expect(page.locator('.case-head')).toContainText('省厅形式审查')
})

test('province: formal check, a recused expert refused with the reason, panel set', async ({ page }) => {
  await signIn(page, 'admin')
  await openCase(page, TITLE_A)
  await page.getByRole('tab', { name: '流程图' }).click()
  await expect(page.locator('.diagram .svg > svg')).toBeVisible()
  await expect(page.locator('.diagram .svg > svg')).toContainText('并行')
  await expect(page.locator('.diagram .el-alert')).toHaveCount(0)
  await screen(page, '11-case-diagram')
  await page.getByRole('tab', { name: '时限' }).click()
  await screen(page, '12-case-deadlines')
  await act(page, '形式审查通过,组织专家评审', async (d) => {
    for (const l of ['申请文件齐全', '实验方案符合要求', '市州审核意见齐全', '申报主体符合条件']) await tick(d, l)
  })
  await expect(page.locator('.case-head')).toContainText('专家评审')

  await page.getByRole('tab', { name: '评审专家' }).click()
  await page.getByRole('button', { name: '设定评审专家' }).click()
  const d = dialog(page, '设定评审专家')
  for (const e of ['expert01', 'expert04', 'expert05']) await tick(d, new RegExp(`\\(${e}\\)`))
  await d.getByRole('button', { name: '保存专家组' }).click()
  await expect(d.locator('li.refused')).toContainText('expert01')
  await expect(d.locator('li.refused .sf-error')).not.toBeEmpty()
  await screen(page, '13-panel-recusal')
  await tick(d, /\(expert01\)/, false)
  await tick(d, /\(expert10\)/)
  await d.getByRole('button', { name: '保存专家组' }).click()
  await expect(d).toBeHidden()
  await expect(page.locator('.panel-manager')).toContainText('expert10')
  await screen(page, '14-panel-set')
})

for (const [i, expert] of ['expert04', 'expert05', 'expert10'].entries()) {
  test(`${expert}: scores blind in the split view and hands in once`, async ({ page }) => {
    await signIn(page, expert)
    await expect(page.getByRole('link', { name: TITLE_A })).toBeVisible()
    await page.locator('.todo-table').getByRole('button', { name: '专家评分' }).click()
    await expect(page.getByRole('heading', { name: /专家评分/ })).toBeVisible()
    // Blind: no other expert's name anywhere on the page.
    for (const other of ['expert04', 'expert05', 'expert10', '评审专家04', '评审专家05', '评审专家10']) {
      if (other.endsWith(expert.slice(-2))) continue
      await expect(page.locator('body')).not.toContainText(other)
    }
    const scores = [22 - i, 21, 18, 13, 13 - i]
    const names = ['创新性', '可行性', '工作基础', '保障措施', '示范带动作用']
    // Inputs are capped at each criterion's maximum.
    await page.getByLabel('创新性(满分 25)').fill('40')
    await page.getByLabel('创新性(满分 25)').blur()
    await expect(page.getByLabel('创新性(满分 25)')).toHaveValue('25')
    for (const [k, n] of names.entries()) {
      await page.getByLabel(`${n}(满分`).fill(String(scores[k]))
      await page.getByLabel(`${n}(满分`).blur()
    }
    await expect(page.locator('.rubric-table .total')).toContainText(String(scores.reduce((a, b) => a + b, 0)))
    await page.getByLabel('评审意见').fill('实验方案问题导向明确,举措针对性强、可操作性好;建议细化考核指标。')
    await pick(page, '推荐')
    await expect(page.locator('.sheet-head')).toContainText('草稿已保存')
    if (i === 0) await screen(page, '15-expert-sheet')
    await page.getByRole('button', { name: '提交评分' }).click()
    await dialog(page, '确认提交评分').getByRole('button', { name: '确认提交' }).click()
    await expect(page.locator('.sheet-head')).toContainText('已提交')
    await expect(page.getByRole('button', { name: '提交评分' })).toHaveCount(0)
    if (i === 0) await screen(page, '16-expert-sheet-done')
  })
}

test('province: scores, ranking with xlsx download, confirmation under one 文号', async ({ page }) => {
  await signIn(page, 'admin')
  await openCase(page, TITLE_A)
  await page.getByRole('tab', { name: '评分汇总' }).click()
  await expect(page.locator('.scores-panel')).toContainText('综合得分')
  await screen(page, '17-case-scores')

  await page.getByRole('link', { name: '评审与认定' }).click()
  await expect(page.getByRole('link', { name: TITLE_A })).toBeVisible()
  const download = page.waitForEvent('download')
  await page.getByRole('link', { name: '下载 Excel(xlsx)' }).click()
  const file = await download
  expect(file.suggestedFilename()).toMatch(/\.xlsx$/)
  const path = await file.path()
  expect(readFileSync(path!).subarray(0, 2).toString()).toBe('PK')
  await screen(page, '18-round-ranking')

  await page.getByRole('row', { name: new RegExp(TITLE_A) }).locator('label.el-checkbox').click()
  await page.getByRole('button', { name: /按同一文号办理所选/ }).click()
  const d = dialog(page, /发文确认/)
  await d.getByLabel('文号').fill(DOC)
  await d.getByLabel('发文日期').fill('2027-03-10')
  await d.getByLabel('发文日期').press('Enter')
  await screen(page, '19-round-decision')
  await d.getByRole('button', { name: '确认办理' }).click()
  await expect(d).toBeHidden()
  await expect(page.locator('.round-page')).toContainText('实验期')
})

test('the zone appears in the listing', async ({ page }) => {
  await signIn(page, 'd220102')
  await page.getByRole('link', { name: '名录' }).click()
  await expect(page.getByRole('link', { name: TITLE_A })).toBeVisible()
  await expect(page.locator('.page')).toContainText(DOC)
  // The listing's title and its columns headed by the variables' labels, from the definition.
  await expect(page.getByRole('heading', { name: '吉林省社区治理和服务创新实验区名录', level: 2 })).toBeVisible()
  await expect(page.getByRole('columnheader', { name: '确认文号' })).toBeVisible()
  await expect(page.getByRole('columnheader', { name: '实验期满' })).toBeVisible()
  await screen(page, '20-zones')
})

test('district: the annual plan of the experiment period, from the action offered', async ({ page }) => {
  await signIn(page, 'd220102')
  await openCase(page, TITLE_A)
  await expect(page.locator('.case-head')).toContainText('待报第一年度实验计划')
  await act(page, '报送年度实验计划', async (d) => {
    await pick(d.getByRole('radiogroup', { name: '实验年度' }), '1')
    await d.getByLabel('年度目标').fill('完成社区工作事项准入清单,建成楼院议事协商机制。')
    await d.getByRole('button', { name: '+ 添加重点任务事项' }).click()
    await d.getByLabel('重点任务事项 1').fill('制定社区工作事项准入清单')
    await d.getByLabel('进度安排').fill('上半年完成清单制定,下半年在全区推行。')
  })
  await expect(page.locator('.case-head')).toContainText('待报第一年度实验总结')
  await screen(page, '21-case-experiment-period')
})

test('a second application; the bell counts a reminder', async ({ page, browser }) => {
  await signIn(page, 'd220102')
  await newApplication(page, TITLE_B)
  await fillApplication(page)
  await page.getByRole('button', { name: '保存并返回案卷' }).click()
  await openPlan(page)
  await fillPlan(page, false)
  await expect(page.getByText('已填写完整')).toBeVisible()
  await page.getByRole('button', { name: '保存并返回案卷' }).click()
  await act(page, '提交申请')
  await expect(page.locator('.case-head')).toContainText('市州审核')

  // The province moves the rehearsal clock to within 30 days of 30 September and runs the
  // reminder scan.
  const admin = await newSession(browser, 'admin')
  await admin.page.getByRole('link', { name: '演练时钟与任务' }).click()
  await admin.page.getByLabel('推进到某日').fill('2027-09-05')
  await admin.page.getByLabel('推进到某日').press('Enter')
  await admin.page.getByRole('button', { name: '推进到该日' }).click()
  // Until sessions outlive a clock move (the rules issue), the province signs in again.
  await expect(admin.page.getByText(/模拟时钟已推进到 北京时间 2027-09-05/).first()).toBeVisible()
  await admin.page.waitForURL(/\/login/, { timeout: 5_000 }).catch(() => undefined)
  if (admin.page.url().includes('/login')) {
    await screen(admin.page, '22-login-after-clock-move')
    await signIn(admin.page, 'admin')
    await admin.page.getByRole('link', { name: '演练时钟与任务' }).click()
  }
  await expect(admin.page.getByTestId('clock-now')).toContainText('2027-09-05')
  await expect(admin.page.locator('.rehearsal')).toContainText('演练模式')
  await admin.page.getByRole('button', { name: '运行截止提醒扫描' }).click()
  await expect(admin.page.locator('.report')).toContainText('写入站内提醒')
  await screen(admin.page, '23-admin-rehearsal')
  await admin.context.close()

  // The move may end the district's session: sign in again when it did.
  await stillSignedIn(page, 'd220102')
  const bell = page.getByTestId('bell')
  await expect(bell).toHaveAccessibleName(/[1-9]\d* 条未读/)
  await bell.click()
  await expect(page.locator('.bell-list li.unread').first()).toBeVisible()
  await screen(page, '24-bell')
  await page.getByRole('button', { name: '全部标为已读' }).click()
  await expect(bell).toHaveAccessibleName(/0 条未读/)
})

/** The province moves the rehearsal clock (in a session of its own): to a Beijing date's
 * midnight, or by an ISO 8601 duration. */
async function moveClock(browser: Browser, step: { to?: string; by?: string }, shot?: string) {
  const admin = await newSession(browser, 'admin')
  await admin.page.getByRole('link', { name: '演练时钟与任务' }).click()
  if (step.to) {
    await admin.page.getByLabel('推进到某日').fill(step.to)
    await admin.page.getByLabel('推进到某日').press('Enter')
    await admin.page.getByRole('button', { name: '推进到该日' }).click()
  } else {
    await admin.page.getByLabel(/按时长推进/).fill(step.by!)
    await admin.page.getByRole('button', { name: '推进', exact: true }).click()
  }
  await expect(admin.page.getByText(/模拟时钟已推进到 北京时间/).first()).toBeVisible()
  if (shot) await screen(admin.page, shot)
  await admin.context.close()
}

test('rehearsal clock past 30 September: the forward refused naming the cutoff; carried over', async ({ page, browser }) => {
  // 22:00 on 30 September: the city opens the second application to forward it…
  await moveClock(browser, { to: '2027-09-30' })
  await moveClock(browser, { by: 'PT22H' })
  await signIn(page, 'c220100')
  await expect(page.locator('.rehearsal')).toContainText('演练模式')
  await expect(page.locator('.rehearsal')).toContainText(/北京时间 2027-09-30 22:\d\d/)
  await page.getByRole('link', { name: TITLE_B }).first().click()
  await page.locator('.case-head').getByRole('button', { name: '审核通过并报省', exact: true }).click()
  const d = dialog(page, '审核通过并报省')
  await d.getByLabel('审核意见').fill('经审核,申报材料齐全,同意推荐报省民政厅评审。')
  await pick(d.getByRole('radiogroup', { name: '是否推荐' }), '是')
  await d.getByLabel('经办人').fill('赵志强')
  await d.getByRole('button', { name: '下一步' }).click()

  // …while the clock passes midnight; the service refuses, naming the cutoff.
  await moveClock(browser, { by: 'PT3H' }, '25-admin-rehearsal-october')
  await d.getByRole('button', { name: '确认办理' }).click()
  const refusal = d.locator('.refusal')
  await expect(refusal).toContainText('本轮申报已于 2027-09-30')
  await expect(refusal).toContainText('截止')
  await expect(refusal).toContainText('结转至下一轮')
  await screen(page, '26-refusal-cutoff')
  await d.getByRole('button', { name: '关闭此对话框' }).click()

  // The page reloads: the cutoff is shown as passed, and the case is carried over.
  await expect(page.locator('.gate-alert')).toContainText('年度申报截止')
  await act(page, '结转至下一轮')
  await expect(page.locator('.case-head')).toContainText('2028 年度')
  await act(page, '审核通过并报省', async (d) => {
    await d.getByLabel('审核意见').fill('经审核,申报材料齐全,同意推荐报省民政厅评审。')
    await pick(d.getByRole('radiogroup', { name: '是否推荐' }), '是')
    await d.getByLabel('经办人').fill('赵志强')
  })
  await expect(page.locator('.case-head')).toContainText('省厅形式审查')
})

test('the same 文号 is refused on a second case, on its field', async ({ page }) => {
  await signIn(page, 'admin')
  await page.getByRole('link', { name: TITLE_B }).first().click()
  await page.locator('.case-head').getByRole('button', { name: '不予认定', exact: true }).click()
  const d = dialog(page, '不予认定')
  await d.getByLabel('不予认定理由').fill('实验方案与本轮申报重点不符,暂不予认定。')
  await d.getByLabel('文号').fill(DOC)
  await d.getByRole('button', { name: '下一步' }).click()
  await d.getByRole('button', { name: '确认办理' }).click()
  const field = d.locator('.el-form-item', { has: page.getByLabel('文号') })
  await expect(field.locator('.el-form-item__error')).toContainText(`文号「${DOC}」已被使用`)
  await expect(d.locator('.refusal')).toContainText('一个文号只能用于一次决定')
  await screen(page, '27-document-number-taken')
  await d.getByRole('button', { name: '取消' }).click()
})

test('two people on one case: the second is told it changed and reloads', async ({ browser }) => {
  const one = await newSession(browser, 'admin')
  const two = await newSession(browser, 'admin')
  for (const s of [one, two]) await s.page.getByRole('link', { name: TITLE_B }).first().click()
  await act(one.page, '退回修改', async (d) => {
    await d.getByLabel('退回理由').fill('请按形式审查意见补充市州审核意见后重新报送。')
  })
  await expect(one.page.locator('.case-head')).toContainText('草稿')

  await act(two.page, '形式审查通过,组织专家评审', async (d) => {
    for (const l of ['申请文件齐全', '实验方案符合要求', '市州审核意见齐全', '申报主体符合条件']) await tick(d, l)
  })
  const prompt = two.page.getByRole('dialog', { name: '已被他人更新' })
  await expect(prompt).toBeVisible()
  await screen(two.page, '28-stale-reload-prompt')
  await prompt.getByRole('button', { name: '重新加载' }).click()
  await expect(two.page.locator('.case-head')).toContainText('草稿')
  await one.context.close()
  await two.context.close()
})

test('panels in bulk for the next round; an assigned expert steps down with a conflict', async ({ page, browser }) => {
  const district = await newSession(browser, 'd220102')
  await openCase(district.page, TITLE_B)
  await act(district.page, '提交申请')
  await expect(district.page.locator('.case-head')).toContainText('市州审核')
  await district.context.close()
  const city = await newSession(browser, 'c220100')
  await openCase(city.page, TITLE_B)
  await act(city.page, '审核通过并报省', async (d) => {
    await d.getByLabel('审核意见').fill('经审核,申报材料齐全,同意推荐报省民政厅评审。')
    await pick(d.getByRole('radiogroup', { name: '是否推荐' }), '是')
    await d.getByLabel('经办人').fill('赵志强')
  })
  await city.context.close()

  await signIn(page, 'admin')
  await openCase(page, TITLE_B)
  await act(page, '形式审查通过,组织专家评审', async (d) => {
    for (const l of ['申请文件齐全', '实验方案符合要求', '市州审核意见齐全', '申报主体符合条件']) await tick(d, l)
  })
  await page.getByRole('link', { name: '评审与认定' }).click()
  await page.getByLabel('轮次').fill('2028')
  await page.getByLabel('轮次').blur()
  await page.getByRole('button', { name: '批量指派' }).click()
  const row = page.getByRole('row', { name: new RegExp(TITLE_B.replace(/[()()]/g, '.')) }).first()
  await expect(row).toContainText('expert')
  const assigned = ((await row.textContent()) ?? '').match(/expert\d\d/g) ?? []
  expect(assigned).toHaveLength(3)
  expect(assigned).not.toContain('expert01')
  await screen(page, '29-round-bulk-panels')

  const expert = await newSession(browser, assigned[0])
  await expert.page.locator('.todo-table').getByRole('button', { name: '专家评分' }).click()
  await expert.page.getByRole('button', { name: '申请回避' }).click()
  const d = dialog(expert.page, '申请回避')
  await d.getByLabel('回避理由').fill('本人曾参与南关区社区治理规划编制,与申报单位存在利益关系。')
  await screen(expert.page, '30-expert-decline')
  await d.getByRole('button', { name: '确认回避' }).click()
  await expect(expert.page.getByRole('heading', { name: '待办' })).toBeVisible()
  await expect(expert.page.getByRole('link', { name: TITLE_B })).toHaveCount(0)
  await expert.context.close()

  await openCase(page, TITLE_B)
  await page.getByRole('tab', { name: '评审专家' }).click()
  await expect(page.locator('.panel-manager')).toContainText('回避与退出')
  await expect(page.locator('.panel-manager')).toContainText('与申报单位存在利益关系')
  await screen(page, '31-panel-declined')
})

test('every other screen: screenshots and accessibility', async ({ page, browser }) => {
  await signIn(page, 'admin')
  await screen(page, '32-admin-todo')
  await page.getByRole('link', { name: '全部案卷' }).click()
  await expect(page.getByRole('link', { name: TITLE_A })).toBeVisible()
  await screen(page, '33-admin-cases')
  await page.getByRole('link', { name: TITLE_A }).click()
  await page.waitForURL(/\/cases\/[^/]+$/)
  const id = page.url().split('/cases/')[1].split(/[?#]/)[0]
  await page.getByRole('tab', { name: '申报材料' }).click()
  await screen(page, '34-case-materials')
  for (const [link, name, heading] of [
    ['用户', '35-admin-users', '用户管理'],
    ['单位', '36-admin-units', '单位管理'],
    ['专家库', '37-admin-experts', '专家库'],
    ['节假日', '38-admin-calendar', '节假日安排'],
    ['邮件发送', '39-admin-outbox', '邮件发送'],
    ['消息提醒', '40-notifications', '消息提醒'],
  ]) {
    await page.getByRole('link', { name: link, exact: true }).click()
    await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible()
    await screen(page, name)
  }
  await page.getByRole('link', { name: '用户', exact: true }).click()
  await page.getByRole('button', { name: '新增用户' }).click()
  await screen(page, '41-admin-user-dialog')
  await page.keyboard.press('Escape')
  await page.getByRole('button', { name: '日历订阅' }).click()
  await dialog(page, /日历订阅/).getByRole('button', { name: '生成订阅地址' }).click()
  await expect(dialog(page, /日历订阅/).getByLabel('日历订阅地址')).toHaveValue(/calendar\.ics\?token=/)
  await screen(page, '42-calendar-feed')
  await page.keyboard.press('Escape')
  await page.goto(`/cases/${id}/print`)
  await expect(page.getByRole('heading', { name: '办理记录(签核历程)' })).toBeVisible()
  await screen(page, '43-print')
  await page.goto('/no/such/page')
  await expect(page.getByText('页面不存在').first()).toBeVisible()
  await screen(page, '44-not-found')

  const expert = await newSession(browser, 'expert04')
  await screen(expert.page, '45-expert-todo')
  await expert.page.getByRole('link', { name: '我的评审' }).click()
  await expect(expert.page.getByRole('link', { name: TITLE_A })).toBeVisible()
  await screen(expert.page, '46-expert-cases')
  await expert.context.close()

  await page.goto('/login')
  await screen(page, '00-login')
})
