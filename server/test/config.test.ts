import { readFileSync } from 'node:fs'
import { isAbsolute, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ConfigError, ENV_DOCS, envDefaults, parseConfig } from '../src/config.ts'
import { WEBHOOK_EVENT_TYPES } from '../src/webhooks/types.ts'

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

  it('[R14] README’s default column is what config.ts uses with an empty environment', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url))
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const documented = new Map<string, string>()
    for (const match of readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)`\s*\|\s*(.+?)\s*\|/gm))
      documented.set(match[1] ?? '', match[2] ?? '')
    const defaults: Record<string, unknown> = envDefaults()
    expect([...documented.keys()].sort()).toEqual(Object.keys(ENV_DOCS).sort())
    // How the README writes a value: booleans as 0/1, lists comma-separated, paths from the repo root.
    const written = (value: unknown): string => {
      if (value === undefined) return 'unset'
      if (typeof value === 'boolean') return `\`${value ? 1 : 0}\``
      if (Array.isArray(value)) {
        if (value.length === 0) return 'empty'
        if (value.join(',') === WEBHOOK_EVENT_TYPES.join(',')) return 'all four'
        return `\`${value.join(',')}\``
      }
      if (typeof value === 'string' && isAbsolute(value)) return `\`${relative(root, value)}\``
      return typeof value === 'number' || typeof value === 'string' ? `\`${value}\`` : JSON.stringify(value)
    }
    for (const [name, cell] of documented) {
      // LINK_SECRET: unset in the environment, generated into DATA_DIR at start.
      const expected = name === 'LINK_SECRET' ? 'generated' : written(defaults[name])
      expect(cell, name).toBe(expected)
    }
  })
})
