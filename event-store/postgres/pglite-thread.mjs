// PGlite on its own thread (see pglite-thread.ts): the WebAssembly Postgres runs here, so its CPU
// never blocks the event loop that serves HTTP and MCP. Plain JavaScript: a worker thread does not
// inherit the main thread's TypeScript loader. Run as a process (`node pglite-thread.mjs <dir>`),
// it only creates the data directory <dir> and exits.
import { setFlagsFromString } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';

const asProcess = parentPort === null;
// Baseline (Liftoff) machine code only for PostgreSQL's WebAssembly, unless asked to optimise it
// (SWITCHYARD_PGLITE_COMPILER): tiering hot functions up held ~55 MB more resident for good and
// gave ~10% more calls/s (docs/benchmarks.md). The flag is read when the module is compiled, at
// PGlite.create below; it is process-wide, and PGlite is the program's only large WebAssembly.
if (asProcess || workerData.compiler !== 'optimizing') setFlagsFromString('--liftoff-only');

const options = {
  // Match pg: int8 as a decimal string, never a lossy number.
  parsers: { [types.INT8]: (value) => value },
  // PostgreSQL's default 128 MB of shared buffers is WebAssembly memory held for good; an embedded
  // log and its read models are served as well from 16 MB and the file system's cache.
  startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'],
};
const dataDir = asProcess ? process.argv[2] : workerData.dataDir;
const db = dataDir === 'memory://' ? await PGlite.create(options) : await PGlite.create(dataDir, options);
if (asProcess) {
  // initdb's memory stays with the process that ran it, even after a thread that ran it ends:
  // this process only creates the directory.
  await db.close();
  process.exit(0);
}
const unlistens = new Map();
/**
 * NOTIFYs raised while a query is served are posted after that query's reply (never held longer:
 * each reply sends what has gathered), so the appender learns what it committed before any
 * listener hears of it (see LiveTail.push).
 */
let serving = 0;
const notes = [];
function notify(channel, payload) {
  if (serving > 0) notes.push({ notify: channel, payload });
  else parentPort.postMessage({ notify: channel, payload });
}

/** What a PostgreSQL error says, so the caller can tell a unique violation from the rest. */
function errorOf(e) {
  const out = { message: e instanceof Error ? e.message : String(e) };
  for (const k of [
    'name',
    'code',
    'detail',
    'constraint',
    'schema',
    'table',
    'column',
    'severity',
    'hint',
    'where',
  ])
    if (e && typeof e === 'object' && e[k] !== undefined) out[k] = e[k];
  return out;
}

async function run(m) {
  switch (m.op) {
    case 'query': {
      if (m.begin) await db.query('BEGIN');
      const r = await db.query(m.sql, m.params);
      return { rows: r.rows, affectedRows: r.affectedRows, fields: r.fields };
    }
    case 'listen':
      unlistens.set(m.channel, await db.listen(m.channel, (payload) => notify(m.channel, payload)));
      return null;
    case 'unlisten':
      await unlistens.get(m.channel)?.();
      unlistens.delete(m.channel);
      return null;
    case 'close':
      await db.close();
      return null;
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

function flushNotes() {
  serving--;
  for (const note of notes.splice(0)) parentPort.postMessage(note);
}

parentPort.on('message', (m) => {
  serving++;
  run(m).then(
    (value) => {
      parentPort.postMessage({ id: m.id, value });
      flushNotes();
    },
    (e) => {
      parentPort.postMessage({ id: m.id, error: errorOf(e) });
      flushNotes();
    },
  );
});
parentPort.postMessage({ ready: true });
