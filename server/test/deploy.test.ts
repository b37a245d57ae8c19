import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ENV_DOCS, parseConfig } from '../src/config.ts'

/**
 * What can be checked of the container setup without a Docker engine (SPEC R50, R68): the compose
 * file's services, ports, volumes, healthchecks and profiles (the cluster's too), that it sets only
 * variables Tandem reads, the proxy and Prometheus configs it mounts, and the Dockerfile's stages,
 * user, healthcheck and compiled entry point.
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
  command?: string[]
}

// Merge keys: the three cluster nodes share one definition (`<<: *tandem-node`), as compose reads it.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
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

describe('docker compose --profile cluster', () => {
  const nodes = ['node1', 'node2', 'node3']
  const service = (name: string): Service => {
    const found = compose.services[name]
    expect(found, name).toBeDefined()
    return found as Service
  }
  /** What compose passes when nothing is set in the shell: `${VAR:-default}` → default. */
  const resolved = (env: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(env).map(([name, value]) => [name, value.replace(/\$\{\w+:-([^}]*)\}/g, '$1')]),
    )

  it('[R68] PostgreSQL 15+ and Redis 7, each with a healthcheck, in the cluster profile only', () => {
    const postgres = service('postgres')
    const redis = service('redis')
    expect(Number(/^postgres:(\d+)/.exec(postgres.image ?? '')?.[1])).toBeGreaterThanOrEqual(15)
    expect(redis.image).toMatch(/^redis:7(\.|-|$)/)
    for (const backing of [postgres, redis]) {
      expect(backing.profiles).toEqual(['cluster'])
      expect(backing.healthcheck?.test.length).toBeGreaterThan(0)
      expect(backing.ports).toBeUndefined()
    }
  })

  it('[R68] three nodes named after their services, on PostgreSQL and Redis, with the same settings as the single node', () => {
    for (const name of nodes) {
      const node = service(name)
      expect(node.profiles).toEqual(['cluster'])
      expect(node.build).toBe('.')
      expect(node.image).toBe(tandem.image)
      // Reached through the balancer only.
      expect(node.ports).toBeUndefined()
      expect(node.expose).toContain('1234')
      expect(node.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      })
      expect(node.healthcheck?.test.join(' ')).toContain("fetch('http://127.0.0.1:1234/readyz')")
      const env = node.environment ?? {}
      for (const variable of Object.keys(env)) expect(Object.keys(ENV_DOCS), variable).toContain(variable)
      // The long-poll routing key is the hostname the balancer sends a session's requests to.
      expect(env.NODE_NAME).toBe(name)
      expect(env.ADMIN_API_KEY).toBe(tandem.environment?.ADMIN_API_KEY)
      expect(env.LINK_SECRET).toBe(tandem.environment?.LINK_SECRET)
      const config = parseConfig(resolved(env))
      expect(config).toMatchObject({ nodeName: name, port: 1234 })
      expect(new URL(config.databaseUrl ?? '').hostname).toBe('postgres')
      expect(new URL(config.redisUrl ?? '').hostname).toBe('redis')
      expect(config.trustedProxies.length).toBeGreaterThan(0)
    }
  })

  it('[R68] nginx: started when every node is healthy, the only published port', () => {
    const lb = service('lb')
    expect(lb.profiles).toEqual(['cluster'])
    expect(lb.image).toMatch(/^nginx:/)
    expect(lb.depends_on).toEqual(
      Object.fromEntries(nodes.map((name) => [name, { condition: 'service_healthy' }])),
    )
    expect(lb.ports).toHaveLength(1)
    expect(lb.ports?.[0]).toMatch(/:80$/)
    mountedFile(lb, '/etc/nginx/conf.d/default.conf')
  })

  describe('deploy/nginx-cluster.conf', () => {
    const conf = read(mountedFile(service('lb'), '/etc/nginx/conf.d/default.conf'))
    const block = (pattern: string): string => {
      const start = conf.indexOf(`location ${pattern}`)
      expect(start, pattern).toBeGreaterThan(0)
      return conf.slice(start, conf.indexOf('\n  }', start))
    }
    const seconds = (text: string): number => {
      const match = /proxy_read_timeout (\d+)(s|m|h)?;/.exec(text)
      const value = Number(match?.[1])
      return match?.[2] === 'h' ? value * 3600 : match?.[2] === 'm' ? value * 60 : value
    }

    it('[R68] balances round-robin over the three nodes, with WebSocket upgrades and forwarded headers', () => {
      const upstream = /upstream (\w+) \{([^}]*)\}/.exec(conf)
      const servers = [...(upstream?.[2] ?? '').matchAll(/server ([\w-]+):(\d+)/g)].map(
        (m) => `${m[1]}:${m[2]}`,
      )
      expect(servers).toEqual(nodes.map((name) => `${name}:1234`))
      expect(block('/ ')).toContain(`proxy_pass http://${upstream?.[1]};`)
      for (const header of [
        'proxy_http_version 1.1;',
        'proxy_set_header Upgrade $http_upgrade;',
        'proxy_set_header Connection $connection_upgrade;',
        'proxy_set_header Host $http_host;',
        'proxy_set_header X-Forwarded-Proto $scheme;',
      ])
        expect(conf).toContain(header)
      // The edge proxy names the client; nodes believe it (TRUSTED_PROXIES), so it is not appended to.
      expect(conf).toMatch(/proxy_set_header X-Forwarded-For \$(remote_addr|proxy_add_x_forwarded_for);/)
      for (const location of conf.split(/\n\s*location /).slice(1))
        expect(location.split('\n  }')[0]).not.toContain('proxy_set_header')
      expect(seconds(block('/ws/'))).toBeGreaterThan(30)
    })

    it('[R68] event streams unbuffered, held polls outlived', () => {
      const events = block('~ ^/api/docs/[^/]+/events$')
      expect(events).toContain('proxy_buffering off;')
      expect(seconds(events)).toBeGreaterThanOrEqual(30)
      expect(seconds(block('~ ^/api/docs/[^/]+/lp {'.slice(0, -2)))).toBeGreaterThanOrEqual(30)
    })

    it('[R68] a long-poll session is routed to the node in its id through Docker DNS; a lost node means 410', () => {
      expect(conf).toMatch(/resolver 127\.0\.0\.11\b/)
      const session = /location ~ (\^\/api\/docs\/\S+\/lp\/\S+) \{([^}]*)\}/.exec(conf)
      expect(session).not.toBeNull()
      const route = new RegExp(session?.[1] ?? '')
      const body = session?.[2] ?? ''
      const group = /\(\?<(\w+)>/.exec(session?.[1] ?? '')?.[1]
      expect(body).toContain(`proxy_pass http://$${group}:1234;`)
      expect(seconds(body)).toBeGreaterThanOrEqual(30)
      // The id format of server/src/transports/longPoll.ts: `<nodeName>.<session uuid>`.
      const id = 'node2.0f8fad5b-d9cb-469f-a165-70867728950e'
      expect(route.exec(`/api/docs/abc_DEF-123/lp/${id}`)?.groups?.[group ?? '']).toBe('node2')
      expect(route.test('/api/docs/abc/lp')).toBe(false)
      expect(route.test('/api/docs/abc/lp/no-node-here')).toBe(false)
      // Only names in NODE_NAME's alphabet reach the resolver, always on Tandem's port.
      for (const sid of ['evil.host:80.x', 'a.b.c', 'node-1.x'])
        expect(route.exec(`/api/docs/abc/lp/${sid}`)?.groups?.[group ?? '']).toMatch(/^[a-z0-9-]+$/)
      expect(route.test('/api/docs/abc/lp/Evil:80.x')).toBe(false)
      // The node of the session is unreachable: the client gets the 410 of an unknown session.
      expect(body).toMatch(/error_page 502 504 = @(\w+);/)
      const gone = block(`@${/error_page 502 504 = @(\w+);/.exec(body)?.[1]}`)
      expect(gone).toContain(`return 410 '{"error":"poll session expired","code":4410}';`)
    })
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
    // A supported LTS (Node 20 is end-of-life): 22 or 24 (SPEC R68).
    for (const stage of stages) expect(stage).toMatch(/^FROM node:(22|24)-(bookworm-slim|slim|alpine)\b/)
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
      // Compiled: the runtime holds the module's JavaScript (server/scripts/build.ts).
      const file = exportsMap[`.${subpath}`]?.replace(/^\.\//, 'client/').replace(/\.ts$/, '.js')
      expect(file, subpath).toBeDefined()
      const copies = (line: string): boolean =>
        line.startsWith('COPY ') && line.split(' ').some((word) => word === file || word.endsWith(`/${file}`))
      expect(runtime.some(copies), file).toBe(true)
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
    expect(runtime.at(-1)).toBe('CMD ["node", "server/src/bin.js"]')
  })

  it('[R68] runs the compiled server with plain node: built by npm run build:server, no TypeScript at run time', () => {
    const build = instructions.slice(
      0,
      instructions.findIndex((line, index) => index > 0 && line.startsWith('FROM ')),
    )
    expect(build).toContain('RUN npm run build:server')
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    expect(scripts['build:server']).toContain('server/scripts/build.ts')
    // `npm start` still runs the sources (SPEC R68 keeps it).
    expect(scripts.start).toBe('npm run build && tsx server/src/bin.ts')
    const runtime = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')))
    for (const name of ['server', 'shared'])
      expect(runtime).toContain(`COPY --from=build /app/dist/${name} ${name}`)
    expect(runtime.join('\n')).not.toMatch(/tsx|\.ts\b/)
    // The entry point the build emits for server/src/bin.ts (rootDir: the repository).
    const tsconfig = read('server/tsconfig.build.json')
    expect(tsconfig).toContain('"rewriteRelativeImportExtensions": true')
    expect(tsconfig).toContain('"rootDir": ".."')
    expect(existsSync(new URL('server/src/bin.ts', root))).toBe(true)
    // tsx only for development: the image installs production dependencies only.
    const server = JSON.parse(read('server/package.json')) as { dependencies: Record<string, string> }
    expect(server.dependencies).not.toHaveProperty('tsx')
  })

  it('[R50] the build context leaves out dependencies, builds, data and secrets', () => {
    const ignored = read('.dockerignore').split('\n')
    for (const entry of ['**/node_modules', '**/dist', 'data', '.git', '.env'])
      expect(ignored).toContain(entry)
  })
})
