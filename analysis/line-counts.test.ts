import { describe, expect, it } from 'vitest';
import { countLines } from './line-counts.ts';

describe('countLines', () => {
  it('tells code, blank and comment lines apart in the C family', () => {
    const text = [
      '// header', // comment
      'const a = 1; // trailing', // code
      '', // blank
      '/* one-line block */', // comment
      '/*', // comment
      '', // blank, even inside the block
      ' * body', // comment
      ' */ const b = 2;', // code after the block closes
      'const c = 3; /* opens', // code
      '   still open */', // comment
      '   ', // blank
    ].join('\n');
    expect(countLines(text, 'TypeScript')).toEqual({ lines: 11, code: 3, blank: 3, comment: 5 });
  });

  it('does not count a trailing newline as a line and reads CRLF files', () => {
    expect(countLines('a\r\nb\r\n', 'JavaScript')).toEqual({ lines: 2, code: 2, blank: 0, comment: 0 });
    expect(countLines('', 'JavaScript')).toEqual({ lines: 0, code: 0, blank: 0, comment: 0 });
  });

  it('uses # for scripting and config languages', () => {
    const text = '#!/bin/sh\n# note\necho "#not a comment line"\n';
    expect(countLines(text, 'Shell')).toEqual({ lines: 3, code: 1, blank: 0, comment: 2 });
    expect(countLines('key: 1 # why\n# only\n', 'YAML')).toEqual({ lines: 2, code: 1, blank: 0, comment: 1 });
  });

  it('uses -- and /* */ for SQL, and --[[ ]] blocks for Lua', () => {
    expect(countLines('-- why\nselect 1;\n/* a\nb */\n', 'SQL')).toEqual({
      lines: 4,
      code: 1,
      blank: 0,
      comment: 3,
    });
    expect(countLines('--[[ a\nb ]] x = 1\n-- c\n', 'Lua')).toEqual({
      lines: 3,
      code: 1,
      blank: 0,
      comment: 2,
    });
  });

  it('uses <!-- --> for markup and treats a Markdown heading as content', () => {
    expect(countLines('# Title\n<!-- note -->\n<!--\nhidden\n-->\ntext\n', 'Markdown')).toEqual({
      lines: 6,
      code: 2,
      blank: 0,
      comment: 4,
    });
  });

  it('counts every non-blank line as code for a language without known comment markers', () => {
    expect(countLines('// not a comment in JSON\n{}\n\n', 'JSON')).toEqual({
      lines: 3,
      code: 2,
      blank: 1,
      comment: 0,
    });
  });
});
