# Tandem: one container, its LevelDB on a volume (SPEC R50), or one node of a cluster (R68).
# Build: docker build -t tandem .
# Stage 1 builds the client and compiles the server to JavaScript (npm run build:server); stage 2
# installs the server's production dependencies only; the runtime stage copies both onto a slim
# Node LTS image and runs the compiled server with plain node as the unprivileged `node` user.

FROM node:24-bookworm-slim AS build
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
COPY server server
# dist/{server,shared,client}: JavaScript with package.json files naming it (server/scripts/build.ts).
RUN npm run build:server

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY client/package.json client/
COPY e2e/package.json e2e/
RUN npm ci --omit=dev --no-audit --no-fund --workspace=@tandem/server --workspace=@tandem/shared \
  && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=1234 \
    DATA_DIR=/data \
    CLIENT_DIR=/app/client/dist
WORKDIR /app
# node_modules/@tandem/{server,shared} are workspace links to ../../server and ../../shared: the
# compiled packages copied below, whose package.json files export .js.
COPY --from=deps /app/node_modules node_modules
COPY package.json ./
COPY --from=build /app/dist/server server
COPY --from=build /app/dist/shared shared
# The exporter renders with the editor's own schema (client/src/editor/schema.ts, SPEC R59): that
# one module, compiled, and its package manifest, linked as @tandem/client; its imports are server
# dependencies.
COPY --from=build /app/dist/client/package.json client/
COPY --from=build /app/dist/client/src/editor/schema.js client/src/editor/
RUN ln -sfn ../../client node_modules/@tandem/client
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
CMD ["node", "server/src/bin.js"]
