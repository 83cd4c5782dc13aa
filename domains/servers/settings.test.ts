import { describe, expect, it } from 'vitest';
import { applyToolOverrides, settingsIssues, upstreamToolName } from './settings.ts';

const listed = [
  { name: 'echo', description: 'Echoes' },
  { name: 'add', description: 'Adds' },
  { name: 'say', description: 'Says' },
  { name: 'secret' },
];

describe('tool overrides', () => {
  it('hides, renames and re-describes; the upstream name stays known', () => {
    const served = applyToolOverrides(listed, {
      echo: { name: 'repeat', description: 'Repeats what you say' },
      secret: { hidden: true },
      add: { description: 'Sums two numbers' },
    });
    expect(served.tools).toEqual([
      { name: 'repeat', description: 'Repeats what you say' },
      { name: 'add', description: 'Sums two numbers' },
      { name: 'say', description: 'Says' },
    ]);
    expect(served.origins).toEqual({ repeat: 'echo' });
    expect(upstreamToolName(served.origins, 'repeat')).toBe('echo');
    expect(upstreamToolName(served.origins, 'add')).toBe('add');
  });

  it('keeps a tool its own name when the new one is taken by a tool served as it is', () => {
    const served = applyToolOverrides(listed, { echo: { name: 'say' } });
    expect(served.tools.map((t) => t.name)).toEqual(['echo', 'add', 'say', 'secret']);
    expect(served.origins).toEqual({});
  });

  it('swaps two names, and takes the name of a hidden tool', () => {
    const served = applyToolOverrides(listed, {
      echo: { name: 'add' },
      add: { name: 'echo' },
      say: { hidden: true },
      secret: { name: 'say' },
    });
    expect(served.tools.map((t) => t.name)).toEqual(['add', 'echo', 'say']);
    expect(served.origins).toEqual({ add: 'echo', echo: 'add', say: 'secret' });
  });

  it('refuses two tools renamed to one name', () => {
    const issues = settingsIssues({ type: 'stdio' }, { tools: { a: { name: 'x' }, b: { name: 'x' } } });
    expect(issues).toEqual([{ path: 'tools.b.name', message: '"b" and "a" cannot both be served as "x"' }]);
  });
});
