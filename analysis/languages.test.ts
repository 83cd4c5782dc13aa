import { describe, expect, it } from 'vitest';
import { languageOf } from './languages.ts';

describe('languageOf', () => {
  it.each([
    ['index.ts', 'TypeScript'], // not XML
    ['view.tsx', 'TSX'],
    ['README.md', 'Markdown'], // not GCC Machine Description
    ['package.json', 'JSON'],
    ['stdio.h', 'C'],
    ['ci.yml', 'YAML'],
    ['compose.yaml', 'YAML'], // not MiniYAML
    ['lib.rs', 'Rust'], // not RenderScript
    ['schema.sql', 'SQL'],
    ['main.PY', 'Python'], // extensions match case-insensitively
    ['types.d.ts', 'TypeScript'],
  ])('%s is %s', (name, language) => {
    expect(languageOf(name)).toBe(language);
  });

  it('knows files by their whole name', () => {
    expect(languageOf('Dockerfile')).toBe('Dockerfile');
    expect(languageOf('Makefile')).toBe('Makefile');
    expect(languageOf('tsconfig.json')).toBe('JSON with Comments');
  });

  it('knows nothing of unknown extensions or bare names', () => {
    expect(languageOf('notes.zzz')).toBeUndefined();
    expect(languageOf('CHANGES')).toBeUndefined();
  });
});
