import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressReporter } from './progress.ts';

function sink(isTTY: boolean) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY },
  );
  return { stream, text: () => text };
}

describe('progress without a terminal', () => {
  it('prints a line per new message, at most every interval', () => {
    const out = sink(false);
    let now = 0;
    const progress = progressReporter({ stream: out.stream, label: 'generate', now: () => now });
    progress.update({ progress: 0, total: 10, message: 'rendering' });
    now = 100;
    progress.update({ progress: 3, total: 10, message: 'rendering' }); // same message
    progress.update({ progress: 5, total: 10, message: 'writing' }); // too soon
    now = 600;
    progress.update({ progress: 7, total: 10, message: 'writing' });
    now = 2000;
    progress.update({ progress: 8, total: 10, message: 'writing' }); // same message
    progress.stop();
    expect(out.text()).toBe('generate: rendering (0%)\ngenerate: writing (70%)\n');
  });

  it('prints nothing when quiet', () => {
    const out = sink(true);
    const progress = progressReporter({ stream: out.stream, label: 'sync', quiet: true });
    progress.update({ progress: 1, total: 2, message: 'reading' });
    progress.stop();
    expect(out.text()).toBe('');
  });
});

describe('progress on a terminal', () => {
  it('draws a bar and clears it on stop, so what follows starts on a clean line', () => {
    const out = sink(true);
    const sigintListeners = process.listenerCount('SIGINT');
    const progress = progressReporter({ stream: out.stream, label: 'generate' });
    progress.update({ progress: 5, total: 10, message: 'writing' });
    expect(out.text()).toContain('generate [');
    expect(out.text()).toContain('50%');
    expect(out.text()).toContain('writing');
    progress.stop();
    progress.stop();
    // Erase-line, then nothing more: the result is printed on a clean line.
    expect(out.text().endsWith('\x1b[2K')).toBe(true);
    // The Ctrl-C handler that restores the cursor goes with the bar.
    expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
  });
});
