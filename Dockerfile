FROM node:20-bookworm-slim
# git: template sources may be git repositories.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The bundle the program runs from (bin/build.mjs), built now: the image's files are not writable at run time.
RUN node bin/build.mjs
# Generated projects (and git checkouts while a source is read); a named volume takes this ownership.
RUN mkdir -p /workspace && chown node:node /workspace
ENV SWITCHYARD_WORKSPACE=/workspace
USER node
EXPOSE 4000
ENTRYPOINT ["node", "bin/switchyard.mjs"]
CMD ["start"]
