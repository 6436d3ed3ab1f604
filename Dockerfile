# syntax=docker/dockerfile:1
# skillgate container image. Build from the repository root:
#   docker build -t skillgate:0.1.0 .
# Run (config mounted read-only, SQLite/data volume, upstream key as a file): see docs/deploy.md.

# One base for both stages: better-sqlite3 is a native addon, and the .node binary built in the
# first stage must match the runtime's Node ABI and glibc. Pin a digest in production builds.
ARG NODE_IMAGE=node:20.20-bookworm-slim

# ---- build: dev dependencies, TypeScript compile, then prune to production dependencies -------
FROM ${NODE_IMAGE} AS build
# prebuild-install fetches a prebuilt better-sqlite3 when it can; otherwise node-gyp compiles it,
# which needs this toolchain. npm_config_nodedir points node-gyp at the headers the official image
# ships, so the fallback does not download them either.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the root "prepare" script would compile before the sources are here, and
# dev-only packages (claude-code, esbuild) would fetch platform binaries the image never uses.
# better-sqlite3 is the only production dependency with an install script: rebuild it explicitly.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && chmod +x dist/cli/main.js \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: production node_modules + dist, no toolchain, no npm needed at run time ----------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SKILLGATE_CONFIG=/etc/skillgate/skillgate.yaml
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The bundled example stays available to `skillgate config validate` and as documentation.
COPY config ./config
# /var/lib/skillgate holds the SQLite store and generated key files. ./data (the default of
# storage.url and of the dev issuer) is linked to it, so relative paths also land on the volume.
# /etc/skillgate is where the configuration is mounted (read-only).
RUN mkdir -p /var/lib/skillgate /etc/skillgate \
 && chown 1000:1000 /var/lib/skillgate \
 && ln -s /var/lib/skillgate /app/data \
 && ln -s /app/dist/cli/main.js /usr/local/bin/skillgate
VOLUME ["/var/lib/skillgate"]
# The image's "node" user, numeric so Kubernetes runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
# The gateway drains on SIGTERM (listen.drainTimeout); give `docker stop -t` more than that.
STOPSIGNAL SIGTERM
# node, not curl (the slim image has none). Override SKILLGATE_HEALTHCHECK_URL when listen.port
# or listen.host differ from 0.0.0.0:8080.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.SKILLGATE_HEALTHCHECK_URL||'http://127.0.0.1:8080/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/cli/main.js", "serve"]
