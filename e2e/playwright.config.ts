import { existsSync } from 'node:fs'
import { defineConfig, devices } from '@playwright/test'

const SYSTEM_CHROMIUM = '/usr/bin/chromium'

/**
 * TANDEM_CHROMIUM, else the distribution's Chromium where there is one (CI images without
 * Playwright's download), else undefined: Playwright's own bundled browser.
 */
function chromiumExecutable(): string | undefined {
  const fromEnv = process.env['TANDEM_CHROMIUM']
  if (fromEnv) return fromEnv
  return existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined
}

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  // Every test starts its own server on a free port, but two browsers per test is plenty for CI.
  workers: 1,
  forbidOnly: Boolean(process.env['CI']),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  use: {
    headless: true,
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: chromiumExecutable(),
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-quic',
          ],
        },
      },
    },
  ],
})
