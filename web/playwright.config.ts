// The browser suite (scripts/e2e runs it): Debian's Chromium, zh-CN, Beijing time, one worker.
import { defineConfig } from '@playwright/test'
import { fileURLToPath } from 'node:url'

const target = fileURLToPath(new URL('../target/e2e/', import.meta.url))

export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  outputDir: target + 'test-results',
  reporter: [['list'], ['json', { outputFile: target + 'results.json' }]],
  use: {
    baseURL: process.env.PF_E2E_URL ?? 'http://127.0.0.1:18181',
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1366, height: 860 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    acceptDownloads: true,
    // The application drops its transitions (theme.css): no half-faded toast in a scan.
    contextOptions: { reducedMotion: 'reduce' },
    launchOptions: {
      executablePath: process.env.PF_E2E_CHROMIUM ?? '/usr/bin/chromium',
      // Debian's Chromium as root in a container; no network beyond the loopback.
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
    },
  },
})
