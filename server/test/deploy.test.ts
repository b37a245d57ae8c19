import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ENV_DOCS, parseConfig } from '../src/config.ts'

/**
 * What can be checked of the container setup without a Docker engine (SPEC R50): the compose file's
 * services, ports, volumes, healthchecks and profiles, that it sets only variables Tandem reads, the
 * proxy and Prometheus configs it mounts, and the Dockerfile's stages, user and healthcheck.
 */
const root = new URL('../../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8')

interface Service {
  build?: unknown
  image?: string
  ports?: string[]
  expose?: string[]
  environment?: Record<string, string>
  volumes?: string[]
  profiles?: string[]
  healthcheck?: { test: string[] }
  depends_on?: unknown
}

const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>
  volumes: Record<string, unknown>
}
const tandem = compose.services.tandem as Service
const proxy = compose.services.proxy as Service
const prometheus = compose.services.prometheus as Service

/** `./deploy/x.conf:/etc/…:ro` → `deploy/x.conf` */
function mountedFile(service: Service, target: string): string {
  const mount = service.volumes?.find((volume) => volume.split(':')[1] === target)
  expect(mount, target).toBeDefined()
  const source = String(mount).split(':')[0] ?? ''
  expect(existsSync(new URL(source, root)), source).toBe(true)
  return source
}

describe('docker compose', () => {
  it('[R50] tandem: built here, port 1234, LevelDB on a named volume, healthcheck, always on', () => {
    expect(tandem.build).toBe('.')
    expect(tandem.profiles).toBeUndefined()
    expect(tandem.ports).toEqual(['${TANDEM_PORT:-1234}:1234'])
    expect(tandem.environment?.DATA_DIR).toBe('/data')
    expect(tandem.environment?.PORT).toBe('1234')
    expect(tandem.volumes).toContain('tandem-data:/data')
    expect(compose.volumes).toHaveProperty('tandem-data')
    expect(tandem.healthcheck?.test.join(' ')).toMatch(
      /fetch\('http:\/\/127\.0\.0\.1:1234\/(readyz|healthz)'\)/,
    )
  })

  it('[R50] sets only variables Tandem reads, with values its config accepts', () => {
    const env = tandem.environment ?? {}
    for (const name of Object.keys(env)) expect(Object.keys(ENV_DOCS), name).toContain(name)
    // What compose passes when nothing is set in the shell: `${VAR:-default}` → default.
    const resolved = Object.fromEntries(
      Object.entries(env).map(([name, value]) => [name, value.replace(/\$\{\w+:-([^}]*)\}/g, '$1')]),
    )
    expect(parseConfig(resolved)).toMatchObject({ dataDir: '/data', metricsPort: 9464, port: 1234 })
  })

  it('[R50][R51] the metrics listener is on the compose network only, and Prometheus scrapes it', () => {
    const metricsPort = tandem.environment?.METRICS_PORT
    expect(metricsPort).toBe('9464')
    expect(tandem.ports?.some((port) => port.endsWith(`:${metricsPort}`))).toBe(false)
    expect(tandem.expose).toContain(metricsPort)
    expect(prometheus.profiles).toEqual(['prometheus'])
    const config = parse(read(mountedFile(prometheus, '/etc/prometheus/prometheus.yml'))) as {
      scrape_configs: Array<{
        job_name: string
        metrics_path?: string
        static_configs: Array<{ targets: string[] }>
      }>
    }
    const job = config.scrape_configs.find((scrape) => scrape.job_name === 'tandem')
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics')
    expect(job?.static_configs.flatMap((target) => target.targets)).toEqual([`tandem:${metricsPort}`])
  })

  it('[R50] the proxy profile: WebSocket upgrades, unbuffered SSE, long-poll timeouts, forwarded scheme', () => {
    expect(proxy.profiles).toEqual(['proxy'])
    expect(proxy.depends_on).toMatchObject({ tandem: { condition: 'service_healthy' } })
    const conf = read(mountedFile(proxy, '/etc/nginx/conf.d/default.conf'))
    expect(conf).toContain('proxy_http_version 1.1;')
    expect(conf).toContain('proxy_set_header Upgrade $http_upgrade;')
    expect(conf).toContain('proxy_set_header Connection $connection_upgrade;')
    expect(conf).toContain('proxy_set_header Host $http_host;')
    expect(conf).toContain('proxy_set_header X-Forwarded-Proto $scheme;')
    expect(conf).toContain('proxy_pass http://tandem;')
    // nginx drops inherited headers in a location that sets any: so no location may set one.
    for (const location of conf.split(/\n\s*location /).slice(1))
      expect(location.split('\n}')[0]).not.toContain('proxy_set_header')
    const block = (pattern: string): string => {
      const start = conf.indexOf(`location ${pattern}`)
      expect(start, pattern).toBeGreaterThan(0)
      return conf.slice(start, conf.indexOf('}', start))
    }
    expect(block('~ ^/api/docs/[^/]+/events$')).toContain('proxy_buffering off;')
    const seconds = (text: string): number => {
      const match = /proxy_read_timeout (\d+)(s|m|h)?;/.exec(text)
      const value = Number(match?.[1])
      return match?.[2] === 'h' ? value * 3600 : match?.[2] === 'm' ? value * 60 : value
    }
    // Longer than a held poll (POLL_TIMEOUT_MS ≤ 25 s), and than the 15 s SSE heartbeat.
    expect(seconds(block('~ ^/api/docs/[^/]+/lp'))).toBeGreaterThan(25)
    expect(seconds(block('~ ^/api/docs/[^/]+/events$'))).toBeGreaterThan(25)
    expect(seconds(block('/ws/'))).toBeGreaterThan(30)
  })
})

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))

  it('[R50] multi-stage: the client is built with npm ci, the runtime has production deps only', () => {
    const stages = instructions.filter((line) => line.startsWith('FROM '))
    expect(stages.length).toBeGreaterThanOrEqual(2)
    expect(stages.at(-1)).toMatch(/^FROM node:20-(bookworm-slim|slim|alpine)\b/)
    expect(dockerfile).toMatch(/RUN npm ci\b/)
    expect(dockerfile).toContain('npm run build -w @tandem/client')
    expect(dockerfile).toMatch(/npm ci --omit=dev/)
    expect(dockerfile).toMatch(/COPY --from=\w+ \/app\/client\/dist/)
  })

  it('[R50] the runtime stage holds every client module the server imports at run time', () => {
    const runtime = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')))
    const exportsMap = (JSON.parse(read('client/package.json')) as { exports: Record<string, string> })
      .exports
    const imported = new Set(
      readdirSync(new URL('server/src/', root), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .flatMap((file) => [...read(`server/src/${file}`).matchAll(/from '@tandem\/client(\/[\w-]+)'/g)])
        .map((match) => match[1] ?? ''),
    )
    expect(imported.size).toBeGreaterThan(0)
    for (const subpath of imported) {
      const file = exportsMap[`.${subpath}`]?.replace(/^\.\//, 'client/')
      expect(file, subpath).toBeDefined()
      expect(runtime.some((line) => line.startsWith('COPY ') && line.includes(` ${file}`))).toBe(true)
    }
    expect(runtime.some((line) => line.startsWith('COPY ') && line.includes('client/package.json'))).toBe(
      true,
    )
  })

  it('[R50] runs as a non-root user, data on a volume, with a healthcheck that needs no curl', () => {
    const runtime = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')))
    const user = runtime.find((line) => line.startsWith('USER '))
    expect(user).toBeDefined()
    expect(user).not.toMatch(/^USER (root|0)\b/)
    expect(runtime.some((line) => /^VOLUME \[?"?\/data"?\]?/.test(line))).toBe(true)
    expect(runtime.some((line) => line.includes('DATA_DIR=/data'))).toBe(true)
    const healthcheck = runtime.find((line) => line.startsWith('HEALTHCHECK '))
    expect(healthcheck).toContain('/healthz')
    expect(healthcheck).toContain('"node"')
    expect(healthcheck).not.toContain('curl')
    expect(runtime.at(-1)).toBe('CMD ["node", "--import", "tsx", "server/src/bin.ts"]')
  })

  it('[R50] the build context leaves out dependencies, builds, data and secrets', () => {
    const ignored = read('.dockerignore').split('\n')
    for (const entry of ['**/node_modules', '**/dist', 'data', '.git', '.env'])
      expect(ignored).toContain(entry)
  })
})
