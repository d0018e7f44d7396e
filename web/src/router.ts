import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { restore, session, expire } from './session'
import { onUnauthenticated } from './api/client'
import AppShell from './components/AppShell.vue'
import LoginView from './views/LoginView.vue'

const routes: RouteRecordRaw[] = [
  { path: '/login', component: LoginView, meta: { public: true, title: '登录' } },
  { path: '/cases/:id/print', component: () => import('./views/PrintView.vue'), meta: { title: '打印' } },
  {
    path: '/',
    component: AppShell,
    children: [
      { path: '', redirect: '/todo' },
      { path: 'todo', component: () => import('./views/TodoView.vue'), meta: { title: '待办' } },
      { path: 'cases', component: () => import('./views/CasesView.vue'), meta: { title: '案卷' } },
      { path: 'cases/new', component: () => import('./views/NewCaseView.vue'), meta: { title: '新建申报' } },
      { path: 'cases/:id', component: () => import('./views/CaseView.vue'), meta: { title: '案卷' } },
      { path: 'cases/:id/forms/:form', component: () => import('./views/FormEditView.vue'), meta: { title: '填写材料' } },
      { path: 'cases/:id/reviews/:action', component: () => import('./views/ReviewSheetView.vue'), meta: { title: '评审' } },
      { path: 'zones', component: () => import('./views/ZonesView.vue'), meta: { title: '名录' } },
      { path: 'notifications', component: () => import('./views/NotificationsView.vue'), meta: { title: '消息提醒' } },
      { path: 'province/rounds', component: () => import('./views/province/RoundView.vue'), meta: { title: '评审与认定' } },
      { path: 'admin/users', component: () => import('./views/admin/UsersView.vue'), meta: { title: '用户管理' } },
      { path: 'admin/units', component: () => import('./views/admin/UnitsView.vue'), meta: { title: '单位管理' } },
      { path: 'admin/experts', component: () => import('./views/admin/ExpertsView.vue'), meta: { title: '专家库' } },
      { path: 'admin/calendar', component: () => import('./views/admin/CalendarView.vue'), meta: { title: '节假日' } },
      { path: 'admin/outbox', component: () => import('./views/admin/OutboxView.vue'), meta: { title: '邮件发送' } },
      { path: 'admin/rehearsal', component: () => import('./views/admin/RehearsalView.vue'), meta: { title: '演练时钟' } },
      { path: ':rest(.*)*', component: () => import('./views/NotFoundView.vue'), meta: { title: '页面不存在' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (await restore()) return true
  return { path: '/login', query: to.fullPath !== '/' && to.fullPath !== '/todo' ? { next: to.fullPath } : {} }
})

router.afterEach((to) => {
  document.title = `${(to.meta.title as string) ?? ''}${to.meta.title ? ' - ' : ''}试点工作平台`
})

onUnauthenticated(() => {
  if (!session.user) return
  expire('登录已过期或已在别处退出,请重新登录')
  const here = router.currentRoute.value
  if (!here.meta.public) void router.push({ path: '/login', query: { next: here.fullPath } })
})
