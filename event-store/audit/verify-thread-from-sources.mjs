// verify-thread.ts on a worker thread when the program runs from its sources (tsx, the tests): a
// thread starts without its parent's loader, so this registers tsx's first. The bundled program
// starts dist/…/audit-verify-thread.js instead (bin/build.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./verify-thread.ts');
