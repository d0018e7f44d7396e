// The caller's notifications as the bell shows them.
import { reactive } from 'vue'
import { api, ok, type Schemas } from './api/client'

export const notices = reactive({ unread: 0, items: [] as Schemas['NotificationView'][] })

export async function refreshNotices(): Promise<void> {
  try {
    const list = await ok(api.GET('/api/v1/notifications', { params: { query: { per_page: 10 } } }))
    notices.unread = list.unread
    notices.items = list.items
  } catch {
    // keep the last count
  }
}
