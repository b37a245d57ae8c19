import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ConfigError, ENV_DOCS, parseConfig } from '../src/config.ts'

describe('config', () => {
  it('[R14] has defaults for everything', () => {
    const config = parseConfig({})
    expect(config).toMatchObject({ port: 1234, dataDir: './data', syncWrites: false })
  })

  it('[R14] names every bad variable in one clear error', () => {
    expect(() => parseConfig({ PORT: 'eighty', SYNC_WRITES: 'maybe' })).toThrow(ConfigError)
    try {
      parseConfig({ PORT: 'eighty', SYNC_WRITES: 'maybe' })
    } catch (error) {
      expect(String(error)).toContain('PORT')
      expect(String(error)).toContain('SYNC_WRITES')
    }
  })

  it('[R14][R50] an empty variable counts as unset (compose passes optional ones as ${VAR:-})', () => {
    const config = parseConfig({
      ADMIN_API_KEY: '',
      LINK_SECRET: '',
      PUBLIC_URL: '',
      METRICS_PORT: '',
      PORT: '',
    })
    expect(config).toMatchObject({
      adminApiKey: null,
      linkSecret: null,
      publicUrl: '',
      metricsPort: null,
      port: 1234,
    })
  })

  it('[R14] README documents every variable config.ts reads', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    for (const name of Object.keys(ENV_DOCS)) expect(readme, name).toContain(`\`${name}\``)
  })
})
