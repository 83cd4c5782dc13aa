import type { Logger } from '../../kernel/logger.ts';
import { type BusNames, type Consumer, filterSubjects, type WatchOptions } from '../bus.port.ts';
import { assertToken, matchesAny } from '../subjects.ts';
import { errorText } from '../wire.ts';
import type { EventLog } from './in-process-log.ts';

export interface Watcher {
  name: string;
  subjects: string[];
}

/** `Bus.watch` in process: follows the log from its current end, calling back each matching position. */
export function startInProcessWatch(
  deps: { log: EventLog; names: BusNames; logger: Logger; watchers: Set<Watcher> },
  options: WatchOptions,
): Consumer {
  assertToken(options.name, 'watch name');
  const watcher: Watcher = { name: options.name, subjects: filterSubjects(deps.names, options.filter) };
  const stopped = new AbortController();
  let cursor = deps.log.entries.length;
  deps.watchers.add(watcher);
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      for (; cursor < deps.log.entries.length && !stopped.signal.aborted; cursor++) {
        const entry = deps.log.entries[cursor]!;
        if (!matchesAny(watcher.subjects, entry.subject)) continue;
        try {
          options.onPosition(entry.event.position, entry.subject);
        } catch (e) {
          deps.logger.warn({ watch: options.name, err: errorText(e) }, 'a watcher threw');
        }
      }
      if (!stopped.signal.aborted) await deps.log.changed();
    }
  })();
  return {
    async stop() {
      if (stopped.signal.aborted) return;
      stopped.abort();
      deps.watchers.delete(watcher);
      deps.log.wake();
      await loop;
    },
  };
}
