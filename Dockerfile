# Tandem: one container, its LevelDB on a volume (SPEC R50). Build: docker build -t tandem .
# Stage 1 builds the client; stage 2 installs the server's production dependencies only; the
# runtime stage copies both onto a slim Node image and runs as the unprivileged `node` user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
COPY e2e/package.json e2e/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json ./
COPY shared shared
COPY client client
RUN npm run build -w @tandem/client

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
COPY e2e/package.json e2e/
# The server runs its TypeScript through tsx (a production dependency), as `npm start` does.
RUN npm ci --omit=dev --no-audit --no-fund --workspace=@tandem/server --workspace=@tandem/shared \
  && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=1234 \
    DATA_DIR=/data \
    CLIENT_DIR=/app/client/dist
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY package.json ./
COPY shared/package.json shared/
COPY shared/src shared/src
COPY server/package.json server/
COPY server/src server/src
# The exporter renders with the editor's own schema (client/src/editor/schema.ts, SPEC R59): that
# one module and its package manifest, linked as @tandem/client; its imports are server dependencies.
COPY client/package.json client/
COPY client/src/editor/schema.ts client/src/editor/
RUN ln -s ../../client node_modules/@tandem/client
COPY --from=build /app/client/dist client/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1234
# slim has no curl: Node's own fetch asks /healthz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 1234) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the graceful shutdown (SPEC R35): clients told to come back, writes made durable.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "server/src/bin.ts"]
