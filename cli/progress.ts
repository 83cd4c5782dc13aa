import cliProgress from 'cli-progress';

export interface ProgressUpdate {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

/** Shows how far a long operation got; `stop` before printing anything else on the terminal. */
export interface ProgressReporter {
  update(p: ProgressUpdate): void;
  /** Idempotent. Clears the bar, so what is printed next starts on a clean line. */
  stop(): void;
}

export interface ProgressOptions {
  /** Where progress goes (stderr): a bar when it is a terminal, plain lines otherwise. */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** What is running, e.g. "generate". */
  label: string;
  quiet?: boolean | undefined;
  /** Least time between two plain lines. */
  intervalMs?: number;
  now?: () => number;
}

/**
 * A progress bar on a terminal; elsewhere (CI logs, pipes) one line per new message, at most
 * every `intervalMs`, so a log shows what happened without a line per file; nothing when quiet.
 */
export function progressReporter(options: ProgressOptions): ProgressReporter {
  if (options.quiet) return { update: () => undefined, stop: () => undefined };
  return options.stream.isTTY ? barReporter(options) : lineReporter(options);
}

const percent = (p: ProgressUpdate): number | undefined =>
  p.total && p.total > 0 ? Math.min(100, Math.max(0, Math.floor((p.progress / p.total) * 100))) : undefined;

function lineReporter(options: ProgressOptions): ProgressReporter {
  const interval = options.intervalMs ?? 500;
  const now = options.now ?? Date.now;
  let lastMessage: string | undefined;
  let lastAt = Number.NEGATIVE_INFINITY;
  return {
    update(p) {
      const message = p.message ?? '';
      if (message === lastMessage || now() - lastAt < interval) return;
      lastMessage = message;
      lastAt = now();
      const pct = percent(p);
      options.stream.write(
        `${options.label}: ${message || 'working'}${pct === undefined ? '' : ` (${pct}%)`}\n`,
      );
    },
    stop: () => undefined,
  };
}

function barReporter(options: ProgressOptions): ProgressReporter {
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  // The bar hides the cursor: give it back when the user gives up with Ctrl-C.
  const onSigint = () => {
    stop();
    process.exit(130);
  };
  function stop() {
    if (stopped) return;
    stopped = true;
    process.off('SIGINT', onSigint);
    bar?.stop();
  }
  return {
    update(p) {
      if (stopped) return;
      // Without a total, an empty bar that still shows the message.
      const total = p.total && p.total > 0 ? p.total : 1;
      const value = p.total && p.total > 0 ? Math.min(p.progress, p.total) : 0;
      const payload = { message: p.message ?? '' };
      if (!bar) {
        bar = new cliProgress.SingleBar({
          stream: options.stream,
          format: `${options.label} [{bar}] {percentage}% | {duration_formatted} | {message}`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
          stopOnComplete: false,
          etaBuffer: 20,
        });
        process.on('SIGINT', onSigint);
        bar.start(total, value, payload);
        return;
      }
      bar.setTotal(total);
      bar.update(value, payload);
    },
    stop,
  };
}
