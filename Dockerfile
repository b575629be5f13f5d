# Production image: official Node.js 24 base; Node runs the TypeScript sources directly (type stripping).
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Dev dependencies (TypeScript, jest, the npm-packaged Node used by the scripts) are not needed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY src ./src
COPY cards ./cards
COPY profiles ./profiles
COPY openapi.yaml ./
RUN mkdir -p /app/data && chown node:node /app/data
USER node
# One instance: the embedded database lives in DATA_DIR (mount a volume there; never share it).
# Several instances behind a load balancer (docs/deployment.md): give every one the same
#   PUBLIC_BASE_URL, CDS_CLIENTS_FILE, DATABASE_URL=postgres://… and REDIS_URL=redis://…
# and point the balancer's readiness check at GET /readyz (this HEALTHCHECK is liveness only).
ENV PORT=8080 DATA_DIR=/app/data DEMO=false
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-semi-space-size=2", "src/server.ts"]
