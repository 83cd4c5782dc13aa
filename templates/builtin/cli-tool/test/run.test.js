// The same program in process, through run() with streams of our own: fast, and handy for
// debugging a command with breakpoints.
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { it } from 'node:test';
import { run } from '../dist/cli.js';

function memoryIo(input = '') {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  stderr.on('data', (chunk) => {
    err += chunk;
  });
  return { io: { stdin: Readable.from([Buffer.from(input)]), stdout, stderr }, output: () => ({ out, err }) };
}

it('runs a command in process', async () => {
  const { io, output } = memoryIo('a b c\n');
  const code = await run(['stats', '--json'], io);
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(output().out), [{ file: '-', lines: 1, words: 3, bytes: 6 }]);
});

it('returns 2 for bad usage without exiting the process', async () => {
  const { io, output } = memoryIo();
  const code = await run(['--no-such-option'], io);
  assert.equal(code, 2);
  assert.match(output().err, /unknown option '--no-such-option'/);
});
