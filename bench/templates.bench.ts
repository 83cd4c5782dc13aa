import { createHash, randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { type Kysely, sql } from 'kysely';
import { stringify } from 'yaml';
import { makeProjectCommands, registerProjectEvents } from '../domains/projects/index.ts';
import {
  makeTemplateCommands,
  registerTemplateEvents,
  type TemplateCommands,
} from '../domains/templates/index.ts';
import { createPostgresEventStore } from '../event-store/index.ts';
import { openPGlite, type SqlConnection } from '../event-store/postgres/connection.ts';
import { handleHttpError } from '../gateway/error-mapping.ts';
import { templatesRoutes } from '../gateway/routes/templates.routes.ts';
import { systemClock } from '../kernel/clock.ts';
import type { CommandMeta } from '../kernel/decider.ts';
import type { EventStore } from '../kernel/event-store.port.ts';
import { EventTypeRegistry } from '../kernel/event-types.ts';
import { silentLogger } from '../kernel/logger.ts';
import { DEFAULT_TENANT, type Principal } from '../kernel/principal.ts';
import { migrateEventStore } from '../migrations/migrate.ts';
import {
  createProjectionRunner,
  migrateReadModels,
  projectsProjection,
  type ReadModelTables,
  templatesProjection,
} from '../projections/index.ts';
import {
  recordSourceCheck,
  type SearchTemplatesOptions,
  searchTemplates,
} from '../projections/templates/index.ts';
import { createTemplateSync, type SyncReport } from '../sagas/template-sync/sync-source.ts';
import { templateBlobStore } from '../templates/blobs.ts';
import { loadTemplateDir, scanSource } from '../templates/engine/load.ts';
import { type RenderedFile, renderTemplate } from '../templates/engine/render.ts';
import { validateTemplate } from '../templates/engine/validate.ts';
import { assertVariables } from '../templates/engine/variables.ts';
import { createTemplateService } from '../templates/service.ts';
import type { BenchContext } from './context.ts';
import { openPgStore, timedProjection } from './fixtures.ts';
import type { BenchResult, Note, Row } from './report.ts';
import { PhaseTimer, percentile, rate } from './stats.ts';

const BUILTIN = fileURLToPath(new URL('../templates/builtin', import.meta.url));
const LARGEST = 'mcp-server-ts';
const CHANGED = 10;

const AIM_SYNC = 50; // templates/s, first sync until searchable
const AIM_SEARCH_P95 = 10; // ms
const AIM_GENERATE_P50 = 100; // ms

// ---------------------------------------------------------------------------------------------
// A synthetic source of templates

/** Deterministic, so every run syncs the same catalog and searches the same queries. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Domain words, most frequent first: descriptions draw them with a skew, so some match many templates. */
const WORDS = `
  api service mcp typescript worker queue postgres auth docker webhook cli react cache redis
  graphql grpc kafka nats oauth jwt session upload storage image pdf email notification slack
  github gitlab kubernetes lambda edge dashboard admin vue svelte static docs blog markdown search
  analytics metrics tracing logging telemetry proxy gateway resource prompt agent llm embedding
  vector chat bot scraper crawler etl pipeline stream batch report billing payment stripe invoice
  inventory booking calendar form survey i18n monorepo library plugin sdk python rust golang
  sqlite mongo scheduler cron websocket sse terraform helm prometheus grafana opentelemetry
`
  .trim()
  .split(/\s+/);
const FILLER = `
  a the with and for that using over into plus template starter project example ready simple
  minimal production fast small tested typed
`
  .trim()
  .split(/\s+/);
const STACKS = 'node-fastify node-cli typescript-mcp python-fastapi go-http rust-axum react-vite'.split(' ');
const TAGS = 'api cli mcp web worker database auth queue ai docs testing docker'.split(' ');

/** Declared variables; every template has projectName and 2–4 of the others (3–5 in all). */
const VARIABLES: Record<string, Record<string, unknown>> = {
  projectName: {
    type: 'string',
    description: 'npm package name',
    pattern: '[a-z][a-z0-9-]{0,62}',
    required: true,
  },
  description: { type: 'string', description: 'One line on what it does', default: 'A project' },
  port: { type: 'integer', description: 'Port to listen on', default: 3000, minimum: 1, maximum: 65535 },
  author: { type: 'string', description: 'Author for package.json and LICENSE', default: '' },
  license: { type: 'string', enum: ['MIT', 'Apache-2.0', 'ISC'], default: 'MIT' },
  withDocker: { type: 'boolean', description: 'Also write a Dockerfile', default: true },
  logLevel: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], default: 'info' },
};
const OPTIONAL_VARIABLES = Object.keys(VARIABLES).filter((v) => v !== 'projectName');

type FileKind = 'code' | 'prose' | 'config';
const COMMENT: Record<FileKind, string> = { code: '//', prose: 'Note:', config: '#' };

/** Lines of the built-in templates that hold no nunjucks syntax, by kind: realistic bodies for files. */
async function linePools(): Promise<Record<FileKind, string[]>> {
  const pools: Record<FileKind, string[]> = { code: [], prose: [], config: [] };
  for (const file of await walk(BUILTIN)) {
    const base = file.replace(/\.njk$/, '');
    const kind: FileKind | undefined = /\.(ts|js)$/.test(base)
      ? 'code'
      : /\.md$/.test(base)
        ? 'prose'
        : /\.ya?ml$/.test(base) && !/template\.ya?ml$/.test(base)
          ? 'config'
          : undefined;
    if (!kind) continue;
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (!/[{%#]}|{[{%#]/.test(line)) pools[kind].push(line);
    }
  }
  return pools;
}

interface Generated {
  names: string[];
  /** Template directory (relative) → a file to change later, and its comment prefix. */
  readme: string[];
}

/**
 * `count` template directories under `root`, each with a manifest (3–5 variables, 2–4 tags, a
 * description of 14–28 words drawn from WORDS and FILLER) and 8–12 files of 1–4 KB cut from the
 * built-in templates' lines, with the variables used in headers and every ~15 lines.
 */
async function generateSource(root: string, count: number): Promise<Generated> {
  const random = mulberry32(20261121);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  // Squared: the first words of the list come up far more often than the last.
  const word = () => WORDS[Math.floor(random() ** 2 * WORDS.length)]!;
  const pools = await linePools();
  const names: string[] = [];
  const readme: string[] = [];
  for (let i = 0; i < count; i++) {
    const w1 = word();
    let w2 = word();
    while (w2 === w1) w2 = word();
    const name = `${w1}-${w2}-${String(i).padStart(3, '0')}`;
    const vars = [
      'projectName',
      ...shuffle(OPTIONAL_VARIABLES, random).slice(0, 2 + Math.floor(random() * 3)),
    ];
    const description = Array.from({ length: 14 + Math.floor(random() * 15) }, () =>
      random() < 0.45 ? word() : pick(FILLER),
    ).join(' ');
    const manifest = {
      name,
      version: `1.${Math.floor(random() * 5)}.0`,
      stack: pick(STACKS),
      description: `${description[0]!.toUpperCase()}${description.slice(1)}.`,
      tags: shuffle(TAGS, random).slice(0, 2 + Math.floor(random() * 3)),
      variables: Object.fromEntries(vars.map((v) => [v, VARIABLES[v]])),
    };
    const dir = join(root, 'templates', name);
    const paths: Array<[string, FileKind]> = [
      ['README.md.njk', 'prose'],
      ['src/index.ts', 'code'],
      ['src/config.ts', 'code'],
      ['src/server.ts', 'code'],
      [`src/${w1}.ts`, 'code'],
      [`src/lib/${w2}.ts`, 'code'],
      [`test/${w1}.test.js`, 'code'],
      ['docs/ARCHITECTURE.md', 'prose'],
      ['docs/USAGE.md', 'prose'],
      ['.github/workflows/ci.yml', 'config'],
      ['CHANGELOG.md', 'prose'],
      ['deploy/values.yaml', 'config'],
    ];
    const files = paths.slice(0, 8 + Math.floor(random() * 5));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'template.yaml'), stringify(manifest));
    for (const [fileIndex, [path, kind]] of files.entries()) {
      const c = COMMENT[kind];
      const pool = pools[kind];
      const size = 1024 + Math.floor(random() * 3072);
      const lines = [
        `${c} ${name}/${path}, generated for {{ projectName }} ({{ projectName | pascalCase }})`,
      ];
      let at = Math.floor(random() * pool.length);
      let bytes = 0;
      for (let n = 0; bytes < size; n++) {
        let line = pool[at++ % pool.length]!;
        if (n % 15 === 14) {
          const v = vars[(fileIndex + Math.floor(n / 15)) % vars.length]!;
          line =
            VARIABLES[v]!.type === 'boolean'
              ? `{% if ${v} %}${c} ${v} is on{% else %}${c} ${v} is off{% endif %}`
              : `${c} ${v}: {{ ${v} }}`;
        }
        lines.push(line);
        bytes += line.length + 1;
      }
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), `${lines.join('\n')}\n`);
    }
    names.push(name);
    readme.push(join(dir, 'README.md.njk'));
  }
  return { names, readme };
}

function shuffle<T>(list: readonly T[], random: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(abs)));
    else if (e.isFile()) out.push(abs);
  }
  return out;
}

/** The baseline of a sync: the least any sync must do — read every file and hash it. */
async function walkAndHash(dir: string): Promise<{ files: number; ms: number }> {
  const t0 = performance.now();
  const files = await walk(dir);
  for (const f of files)
    createHash('sha256')
      .update(await readFile(f))
      .digest('hex');
  return { files: files.length, ms: performance.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// Searches

interface Query {
  kind: string;
  options: SearchTemplatesOptions;
}

function searchQueries(names: readonly string[]): Query[] {
  const q: Query[] = [];
  for (const w of ['api', 'mcp', 'worker', 'postgres', 'stripe', 'telemetry', 'template', 'grafana'])
    q.push({ kind: 'one word', options: { query: w } });
  for (const w of ['api service', 'queue worker', 'auth jwt', 'docker kubernetes', 'mcp prompt', 'chat llm'])
    q.push({ kind: 'two words', options: { query: w } });
  for (const w of ['kube', 'web', 'post', 'tele', 'ser', 'graph'])
    q.push({ kind: 'prefix', options: { query: w } });
  for (const [i, n] of [names[7], names[101 % names.length], names[names.length - 1]].entries())
    q.push({
      kind: 'name',
      options: { query: n!.split('-').slice(0, 2).join(' ') + (i === 0 ? '' : ` ${i}`) },
    });
  for (const stack of ['node-fastify', 'typescript-mcp', 'rust-axum'])
    q.push(
      { kind: 'stack filter', options: { stack } },
      { kind: 'stack + words', options: { stack, query: 'api' } },
    );
  for (const tag of ['mcp', 'database', 'docker'])
    q.push(
      { kind: 'tag filter', options: { tag } },
      { kind: 'tag + words', options: { tag, query: 'service' } },
    );
  for (const w of ['zzyzx', 'qwertyuiop nothing']) q.push({ kind: 'no match', options: { query: w } });
  return q;
}

// ---------------------------------------------------------------------------------------------
// One database: PostgreSQL or PGlite

interface Backend {
  label: 'PostgreSQL' | 'PGlite';
  connection: SqlConnection;
  store: EventStore;
  close(): Promise<void>;
}

async function openBackend(ctx: BenchContext, label: Backend['label'], root: string): Promise<Backend> {
  if (label === 'PostgreSQL') {
    const pg = await openPgStore(ctx, 'templates', 10);
    return { label, connection: pg.sql, store: pg.store, close: () => pg.close() };
  }
  const connection = await openPGlite({ dataDir: join(root, 'pglite') });
  await migrateEventStore(connection.db);
  await migrateReadModels(connection.db);
  const store = createPostgresEventStore({ connection });
  return {
    label,
    connection,
    store,
    async close() {
      await store.close();
      await connection.close();
    },
  };
}

/** The template commands a sync sent since the timer was reset: how many, and how long they took. */
function commandsOf(phases: PhaseTimer): { calls: number; ms: number } {
  return ['publish', 'recordValidation', 'recordSynced', 'sourceState']
    .map((p) => phases.get(p))
    .reduce((a, b) => ({ calls: a.calls + b.calls, ms: a.ms + b.ms }), { calls: 0, ms: 0 });
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;
const sec = (v: number) => `${(v / 1000).toFixed(2)} s`;

async function benchBackend(
  ctx: BenchContext,
  label: Backend['label'],
  root: string,
): Promise<{ rows: Row[]; notes: Note[] }> {
  const bench = 'templates';
  const rows: Row[] = [];
  const notes: Note[] = [];
  const note = (text: string) => notes.push({ bench, text: `${label}: ${text}` });
  const count = ctx.scale(200, 100);
  const dir = join(root, label.toLowerCase());
  const workspace = join(dir, 'workspace');
  await mkdir(join(dir, 'work'), { recursive: true });
  await mkdir(workspace, { recursive: true });
  const workspaceRoot = await realpath(workspace);

  ctx.log(`templates [${label}]: writing a source of ${count} templates`);
  const src = join(dir, 'source');
  const generated = await generateSource(src, count);

  const backend = await openBackend(ctx, label, dir);
  const db: Kysely<ReadModelTables> = backend.connection.db;
  const phases = new PhaseTimer();
  const registry = registerProjectEvents(registerTemplateEvents(new EventTypeRegistry()));
  const runner = createProjectionRunner({
    store: backend.store,
    db,
    projections: [timedProjection(templatesProjection, phases, 'projection'), projectsProjection],
    registry,
    logger: silentLogger(),
  });
  try {
    await runner.start();
    const inner = makeTemplateCommands({ store: backend.store, registry, clock: systemClock });
    const commands: TemplateCommands = {
      ...inner,
      publish: (d, m) => phases.time('publish', () => inner.publish(d, m)),
      recordValidation: (d, m) => phases.time('recordValidation', () => inner.recordValidation(d, m)),
      recordSynced: (d, m) => phases.time('recordSynced', () => inner.recordSynced(d, m)),
      sourceState: (n) => phases.time('sourceState', () => inner.sourceState(n)),
    };
    const blobs = templateBlobStore(db);
    const timedBlobs = {
      ...blobs,
      put: (files: Parameters<typeof blobs.put>[0]) =>
        phases.time('blobs.put', () => blobs.put(files), files.length),
    };
    const sync = createTemplateSync({
      commands,
      blobs: timedBlobs,
      clock: systemClock,
      logger: silentLogger(),
      workDir: join(dir, 'work'),
      recordCheck: (source, outcome, detail) =>
        phases.time('recordCheck', () =>
          recordSourceCheck(db, { source, outcome, detail, checkedAt: systemClock.now() }),
        ),
    });
    const meta = (): CommandMeta => ({
      commandId: randomUUID(),
      actor: 'user:bench',
      correlationId: randomUUID(),
      issuedAt: systemClock.now(),
    });
    const eventCount = async () => {
      const { rows: r } = await sql<{ n: string }>`SELECT count(*)::text AS n FROM sy_es.events`.execute(db);
      return Number(r[0]!.n);
    };
    const run = (source: string) => sync.sync(source, { actor: 'user:bench', correlationId: randomUUID() });
    /** Sync, then wait until the templates read model shows everything appended. */
    const syncUntilVisible = async (source: string) => {
      phases.reset();
      const t0 = performance.now();
      const report = await run(source);
      const syncedMs = performance.now() - t0;
      const head = await backend.store.headPosition();
      if (!(await runner.waitForPosition('templates', head, 120_000)))
        throw new Error(`templates projection did not reach ${head}`);
      return { report, syncedMs, visibleMs: performance.now() - t0 };
    };
    const expectReport = (r: SyncReport, published: number) => {
      if (!r.ok || r.rejected.length > 0 || r.published.length !== published)
        throw new Error(
          `sync: expected ${published} published, got ${JSON.stringify({ ok: r.ok, published: r.published.length, rejected: r.rejected.slice(0, 2), error: r.error })}`,
        );
    };

    await inner.registerSource({ name: 'bench', kind: 'directory', location: src }, meta());
    await walkAndHash(src); // warm-up: page cache and JIT
    const base1 = await walkAndHash(src);

    // (a) the first sync
    ctx.log(`templates [${label}]: first sync of ${count} templates`);
    const before = await eventCount();
    const first = await syncUntilVisible('bench');
    expectReport(first.report, count);
    const afterFirst = await eventCount();
    const firstPhases = Object.fromEntries(phases.entries());
    const base2 = await walkAndHash(src);
    const baseMs = (base1.ms + base2.ms) / 2;
    const visible = await searchTemplates(db, { source: 'bench', limit: 100 });
    if (visible.length !== Math.min(100, count)) throw new Error(`only ${visible.length} templates visible`);
    const syncRate = rate(count, first.visibleMs);
    rows.push({
      bench,
      metric: `${label}: first sync, ${count} templates (${base1.files} files), until searchable`,
      unit: 'templates/s',
      value: syncRate,
      baseline: rate(count, baseMs),
      baselineLabel: 'walk + sha256 of every file',
      better: 'higher',
      aim: { text: `≥ ${AIM_SYNC} templates/s`, met: syncRate >= AIM_SYNC },
    });
    const phase = (name: string) => firstPhases[name]?.ms ?? 0;
    const { calls: commandCalls, ms: inCommands } = commandsOf(phases);
    // Scanning and validating alone, outside the sync, to split what the sync does in process.
    const s0 = performance.now();
    const scanned = await scanSource(src);
    const scanMs = performance.now() - s0;
    const v0 = performance.now();
    for (const t of scanned.templates) await validateTemplate(t);
    const validateMs = performance.now() - v0;
    note(
      `first sync ${sec(first.syncedMs)} to return, ${sec(first.visibleMs)} until the read model showed it (${afterFirst - before} events appended); ` +
        `inside it: ${commandCalls} commands ${sec(inCommands)} (${ms(inCommands / commandCalls)} each; publish ${sec(phase('publish'))}, recordValidation ${sec(phase('recordValidation'))}), ` +
        `blobs.put ${sec(phase('blobs.put'))} (${firstPhases['blobs.put']?.items ?? 0} files), ` +
        `the rest (scan, validate, hashing, and the projection sharing the event loop) ${sec(first.syncedMs - inCommands - phase('blobs.put') - phase('recordCheck'))}; ` +
        `alone, scanSource took ${sec(scanMs)} and validateTemplate ×${scanned.templates.length} ${sec(validateMs)}; ` +
        `templates projection writes ${sec(phase('projection'))} (${firstPhases.projection?.items ?? 0} events); walk + sha256 ${ms(baseMs)}`,
    );

    // (b) nothing changed: nothing may be appended
    ctx.log(`templates [${label}]: second sync, nothing changed`);
    const base3 = await walkAndHash(src);
    const second = await syncUntilVisible('bench');
    const afterSecond = await eventCount();
    if (second.report.changed || afterSecond !== afterFirst)
      throw new Error(
        `an unchanged sync appended ${afterSecond - afterFirst} events (changed: ${second.report.changed})`,
      );
    rows.push({
      bench,
      metric: `${label}: sync again, nothing changed`,
      unit: 'ms',
      value: second.syncedMs,
      baseline: base3.ms,
      baselineLabel: 'walk + sha256 of every file',
      better: 'lower',
    });
    note(
      `unchanged sync appended ${afterSecond - afterFirst} events (log: ${afterSecond} events before and after)`,
    );

    // (c) ten templates changed
    for (const f of generated.readme
      .filter((_, i) => i % Math.floor(count / CHANGED) === 0)
      .slice(0, CHANGED))
      await appendFile(f, 'Note: revised for the benchmark.\n');
    ctx.log(`templates [${label}]: sync after changing ${CHANGED} templates`);
    const base4 = await walkAndHash(src);
    const third = await syncUntilVisible('bench');
    expectReport(third.report, CHANGED);
    const afterThird = await eventCount();
    rows.push({
      bench,
      metric: `${label}: sync after changing ${CHANGED} of ${count}, until searchable`,
      unit: 'ms',
      value: third.visibleMs,
      baseline: base4.ms,
      baselineLabel: 'walk + sha256 of every file',
      better: 'lower',
    });
    note(
      `sync of ${CHANGED} changed templates: ${sec(third.syncedMs)} to return, ${sec(third.visibleMs)} until visible, ${afterThird - afterSecond} events appended ` +
        `by ${commandsOf(phases).calls} commands taking ${sec(commandsOf(phases).ms)} (publish ×${phases.get('publish').calls}, recordValidation ×${phases.get('recordValidation').calls}) ` +
        `and ${phases.get('blobs.put').calls} blobs.put calls taking ${sec(phases.get('blobs.put').ms)}`,
    );

    // Searches over the catalog, each next to a primary-key SELECT through the same connection
    const searches = ctx.scale(500, 200);
    ctx.log(`templates [${label}]: ${searches} searches`);
    const queries = searchQueries(generated.names);
    const order = shuffle(
      Array.from({ length: searches }, (_, i) => queries[i % queries.length]!),
      mulberry32(7),
    );
    const lookup = (name: string) =>
      db.selectFrom('templates').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
    for (const q of queries) await searchTemplates(db, q.options);
    for (let i = 0; i < 50; i++) await lookup(generated.names[i % count]!);
    const searchMs: number[] = [];
    const pkMs: number[] = [];
    const byKind = new Map<string, number[]>();
    let results = 0;
    for (const [i, q] of order.entries()) {
      let t = performance.now();
      await lookup(generated.names[(i * 37) % count]!);
      pkMs.push(performance.now() - t);
      t = performance.now();
      results += (await searchTemplates(db, q.options)).length;
      const d = performance.now() - t;
      searchMs.push(d);
      byKind.set(q.kind, [...(byKind.get(q.kind) ?? []), d]);
    }
    for (const p of [50, 95, 99] as const) {
      const value = percentile(searchMs, p);
      rows.push({
        bench,
        metric: `${label}: searchTemplates p${p}, ${searches} searches over ${count}`,
        unit: 'ms',
        value,
        baseline: percentile(pkMs, p),
        baselineLabel: 'primary-key SELECT of one template row',
        better: 'lower',
        ...(p === 95 && { aim: { text: `p95 ≤ ${AIM_SEARCH_P95} ms`, met: value <= AIM_SEARCH_P95 } }),
      });
    }
    note(
      `search p50 by kind: ${[...byKind].map(([k, v]) => `${k} ${ms(percentile(v, 50))}`).join(', ')}; ${(results / searches).toFixed(1)} results per search on average (limit 20)`,
    );

    // The builtin source, for the largest built-in template
    await inner.registerSource({ name: 'builtin', kind: 'directory', location: BUILTIN }, meta());
    const builtin = await syncUntilVisible('builtin');
    expectReport(builtin.report, 3);
    // Where each generate call spends its time: its own progress callbacks mark the end of loading
    // and of rendering; the append and the wait for the projects read model are timed around them.
    const projects = makeProjectCommands({ store: backend.store, registry });
    let marks: Record<string, number> = {};
    const mark = (what: string) => {
      marks[what] = performance.now();
    };
    const service = createTemplateService({
      db,
      templates: inner,
      projects: {
        ...projects,
        recordGenerated: async (data, m) => {
          mark('appendStart');
          const r = await projects.recordGenerated(data, m);
          mark('appendEnd');
          return r;
        },
      },
      blobs,
      sync,
      clock: systemClock,
      workspaceRoot,
      waitForProjection: async (name, position) => {
        const seen = await runner.waitForPosition(name, position, 10_000);
        mark('waitEnd');
        return seen;
      },
    });

    // The REST search, next to the same search called in process
    const rest = await restSearch(service, generated.names, ctx.scale(200, 100));
    rows.push({
      bench,
      metric: `${label}: GET /api/v1/templates?q=… p50 (HTTP, keep-alive)`,
      unit: 'ms',
      value: rest.httpP50,
      baseline: rest.directP50,
      baselineLabel: 'the same searches, service.search in process',
      better: 'lower',
    });
    note(`REST search p95 ${ms(rest.httpP95)} (in process ${ms(rest.directP95)}), ${rest.count} requests`);

    // Generation of the largest built-in template
    const runs = ctx.scale(30, 10);
    const templateDir = join(BUILTIN, LARGEST);
    ctx.log(`templates [${label}]: generating ${LARGEST} ×${runs}, fs.cp ×${runs}`);
    const opCtx = () => ({
      actor: 'user:bench',
      correlationId: randomUUID(),
      onProgress: (p: { progress: number; message?: string }) => {
        if (p.progress === 0) mark('loaded');
        else if (p.message === 'rendering') mark('rendered');
      },
    });
    const variables = { projectName: 'bench-server' };
    const generate = (dest: string) =>
      service.generate({ template: LARGEST, destination: dest, variables }, opCtx());
    await generate('warm/gen');
    await cp(templateDir, join(workspaceRoot, 'warm', 'cp'), { recursive: true });
    const genMs: number[] = [];
    const cpMs: number[] = [];
    const parts = {
      load: [] as number[],
      render: [] as number[],
      write: [] as number[],
      append: [] as number[],
      wait: [] as number[],
    };
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await cp(templateDir, join(workspaceRoot, 'cp', String(i)), { recursive: true });
      cpMs.push(performance.now() - t);
      marks = {};
      t = performance.now();
      await generate(`gen/${i}`);
      genMs.push(performance.now() - t);
      const m = marks as Record<'loaded' | 'rendered' | 'appendStart' | 'appendEnd' | 'waitEnd', number>;
      parts.load.push(m.loaded - t);
      parts.render.push(m.rendered - m.loaded);
      parts.write.push(m.appendStart - m.rendered);
      parts.append.push(m.appendEnd - m.appendStart);
      parts.wait.push(m.waitEnd - m.appendEnd);
    }
    // The same files written without fsync, temp directory or rename: what the atomic write adds
    const loaded = await loadTemplateDir(templateDir);
    const rendered: RenderedFile[] = await renderTemplate(
      loaded,
      assertVariables(loaded.manifest, variables),
    );
    const plainMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      for (const f of rendered) {
        const target = join(workspaceRoot, 'plain', String(i), ...f.path.split('/'));
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, f.content);
      }
      plainMs.push(performance.now() - t);
    }
    const genP50 = percentile(genMs, 50);
    rows.push(
      {
        bench,
        metric: `${label}: generate ${LARGEST} (${loaded.files.length} files), p50 of ${runs}`,
        unit: 'ms',
        value: genP50,
        baseline: percentile(cpMs, 50),
        baselineLabel: 'fs.cp of the template directory',
        better: 'lower',
        aim: { text: `p50 ≤ ${AIM_GENERATE_P50} ms`, met: genP50 <= AIM_GENERATE_P50 },
      },
      {
        bench,
        metric: `${label}: generate ${LARGEST}, p95 of ${runs}`,
        unit: 'ms',
        value: percentile(genMs, 95),
        baseline: percentile(cpMs, 95),
        baselineLabel: 'fs.cp of the template directory',
        better: 'lower',
      },
    );
    const bytes = rendered.reduce((n, f) => n + f.content.length, 0);
    const p50 = (v: number[]) => percentile(v, 50);
    note(
      `generate ${LARGEST} (${rendered.length} files, ${(bytes / 1024).toFixed(0)} KiB rendered) p50 ${ms(genP50)}, inside it (p50 of each part): ` +
        `catalog read + blobs.get + input checks ${ms(p50(parts.load))}, renderTemplate ${ms(p50(parts.render))}, ` +
        `writeProjectAtomically ${ms(p50(parts.write))} (the same files written plainly, no fsync or rename: ${ms(p50(plainMs))}), ` +
        `ProjectGenerated append ${ms(p50(parts.append))}, wait for the projects read model ${ms(p50(parts.wait))} (p95 ${ms(percentile(parts.wait, 95))})`,
    );
    return { rows, notes };
  } finally {
    await runner.stop();
    await backend.close();
  }
}

/**
 * The search route of the REST API, served by a bare Fastify app on a local port (the gateway's
 * template routes, its zod compilers and error handler; none of its other plugins), against the
 * same searches called in process. Without the auth plugin every request is an administrator's, as
 * the plugin would have set it after checking a credential (what that costs: the gateway bench).
 */
async function restSearch(
  service: ReturnType<typeof createTemplateService>,
  names: readonly string[],
  count: number,
): Promise<{ httpP50: number; httpP95: number; directP50: number; directP95: number; count: number }> {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleHttpError);
  const admin: Principal = {
    id: 'bench-admin',
    tenant: DEFAULT_TENANT,
    name: 'bench admin',
    kind: 'service',
    roles: ['admin'],
    scopes: undefined,
    credential: { type: 'api-key', keyId: 'benchadmin000000' },
    claims: {},
  };
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    request.principal = admin;
  });
  await app.register(templatesRoutes(service), { prefix: '/api/v1' });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const queries = searchQueries(names).filter((q) => q.options.query !== undefined);
    const get = async (q: Query) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(q.options)) params.set(k === 'query' ? 'q' : k, String(v));
      const res = await fetch(`${base}/api/v1/templates?${params}`);
      if (!res.ok) throw new Error(`GET /api/v1/templates: ${res.status} ${await res.text()}`);
      await res.json();
    };
    for (const q of queries) await get(q);
    const http: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < count; i++) {
      const q = queries[i % queries.length]!;
      let t = performance.now();
      await service.search(q.options);
      direct.push(performance.now() - t);
      t = performance.now();
      await get(q);
      http.push(performance.now() - t);
    }
    return {
      httpP50: percentile(http, 50),
      httpP95: percentile(http, 95),
      directP50: percentile(direct, 50),
      directP95: percentile(direct, 95),
      count,
    };
  } finally {
    await app.close();
  }
}

/**
 * The template catalog: sync of a directory source of 200 generated templates (first, unchanged,
 * 10 changed) against walking and hashing its files; search latency over that catalog against a
 * primary-key SELECT; generation of the largest built-in template against `fs.cp` of its
 * directory — on PostgreSQL and on PGlite (on disk).
 */
export async function templatesBench(ctx: BenchContext): Promise<BenchResult> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'sy-bench-templates-')));
  const rows: Row[] = [];
  const notes: Note[] = [];
  try {
    for (const label of ['PostgreSQL', 'PGlite'] as const) {
      const r = await benchBackend(ctx, label, root);
      rows.push(...r.rows);
      notes.push(...r.notes);
    }
    return { rows, notes };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
