import { createRequire } from 'node:module';
import { hardenNunjucks, RenderFailure, renderFiles } from './render-core.mjs';

/**
 * The sandboxed template renderer: a child process started by ../render-sandbox.ts with an empty
 * environment, a temp working directory, a small heap and Node's permission model (it may read
 * this directory and nunjucks, nothing else; it may not write, spawn or start workers). Templates
 * and values arrive over IPC as JSON; rendered files leave the same way, one message per file.
 *
 * Before the first template is seen it hardens nunjucks (render-core.mjs) and takes away what
 * code, were any to run here, could use: the `process` global (and its bindings, getBuiltinModule
 * and kill), fetch, WebSocket and WebAssembly. The permission model does not stop the network on
 * Node 20; with no code generation from strings and none of those left, nothing that a template
 * reaches can open a socket.
 */

const proc = process;
const send = (message) => proc.send(message);

const nunjucksPath = proc.argv[2];
if (!nunjucksPath) throw new Error('usage: child.mjs <path of nunjucks/index.js>');
const nunjucks = createRequire(import.meta.url)(nunjucksPath);

let unsafe = false;
hardenNunjucks(nunjucks, () => {
  unsafe = true;
});

for (const name of ['binding', '_linkedBinding', 'dlopen', 'getBuiltinModule', 'kill', 'chdir']) {
  try {
    Object.defineProperty(proc, name, { value: undefined, configurable: false, writable: false });
  } catch {
    // Already gone on this Node version.
  }
}
for (const name of ['process', 'fetch', 'WebSocket', 'EventSource', 'WebAssembly', 'navigator']) {
  delete globalThis[name];
}

/** The template last sent (validation renders one template twice): its files are not sent again. */
let loaded = { key: -1, files: [] };

function receive({ key, index, total, path, render, content }) {
  if (loaded.key !== key) loaded = { key, files: Array.from({ length: total }) };
  loaded.files[index] = { path, render, content };
}

function render(message) {
  const { id, values, maxOutputBytes } = message;
  // A template of no files (a manifest alone) has no source messages.
  if (message.total === 0) loaded = { key: message.key, files: [] };
  if (loaded.key !== message.key || loaded.files.some((f) => f === undefined)) {
    throw new Error(`template ${message.key} was not sent whole`);
  }
  unsafe = false;
  try {
    renderFiles(nunjucks, loaded.files, values, {
      maxOutputBytes,
      emit: (index, path, content) => send({ type: 'file', id, index, path, content }),
      progress: (done, total) => send({ type: 'progress', id, done, total }),
    });
    send({ type: 'done', id });
  } catch (e) {
    if (!(e instanceof RenderFailure)) throw e;
    const code = unsafe && e.code === 'TEMPLATE.RENDER_FAILED' ? 'TEMPLATE.UNSAFE_EXPRESSION' : e.code;
    send({ type: 'failed', id, code, message: e.message, details: e.details });
  }
}

proc.on('message', (message) => {
  if (message?.type === 'source') receive(message);
  else if (message?.type === 'render') render(message);
});
// The parent is gone (or done with us): nothing more will come.
proc.on('disconnect', () => proc.exit(0));
send({ type: 'ready' });
