/**
 * Dependencies point down — kernel ← event-store, bus ← domains ← projections, runners, sagas,
 * templates ← application (use cases spanning those: callTool) ← gateway ← runtime ← cli — and `npm run lint` checks it with this file. Tests,
 * benchmarks and test helpers (all under test/) sit on top: they may import anything, and
 * production code never imports them.
 */
const layers = [
  ['kernel'],
  ['event-store', 'bus', 'migrations', 'analysis'],
  ['domains'],
  ['projections', 'runners', 'sagas', 'templates'],
  ['application'],
  ['gateway'],
  ['runtime'],
  ['cli'],
];
const production = layers.flat();
const folder = (names) => `^(${names.join('|')})/`;
const notTests = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    ...layers.map((names, i) => ({
      name: `layer-${names[0]}`,
      comment: `${names.join(', ')} may import only from ${layers
        .slice(0, i + 1)
        .flat()
        .join(', ')}`,
      severity: 'error',
      from: { path: folder(names), pathNot: notTests },
      to: { dependencyTypes: ['local'], pathNot: folder(layers.slice(0, i + 1).flat()) },
    })),
    {
      name: 'domains-only-kernel',
      comment: 'a domain imports only the kernel (and zod): no other layer, no other domain',
      severity: 'error',
      from: { path: '^domains/([^/]+)/', pathNot: notTests },
      to: { dependencyTypes: ['local'], pathNot: ['^kernel/', '^domains/$1/'] },
    },
    {
      name: 'composition-root-on-top',
      comment: 'runtime/ wires the system; nothing below it imports it (only cli/, bin and tests do)',
      severity: 'error',
      from: { path: folder(production.filter((f) => f !== 'runtime' && f !== 'cli')), pathNot: notTests },
      to: { path: '^runtime/' },
    },
    {
      name: 'test-helpers-under-test',
      comment: 'kits, contract suites and fixtures are test helpers: they live under test/',
      severity: 'error',
      from: { path: folder(production), pathNot: notTests },
      to: { path: ['^test/', notTests] },
    },
    {
      name: 'no-helpers-beside-production',
      comment: 'a module named like a test helper outside test/ (move it to test/)',
      severity: 'error',
      from: {
        path: ['(-kit|\\.contract|\\.fixture|/testing)\\.ts$', '/fixtures/', '/test-[^/]+$'],
        pathNot: ['^test/', '^bench/', notTests],
      },
      to: {},
    },
    {
      name: 'console-is-browser-code',
      comment:
        'console/ runs in the browser and talks to the gateway over HTTP only: it imports no server module',
      severity: 'error',
      from: { path: '^console/' },
      to: { dependencyTypes: ['local'], pathNot: '^console/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|templates/builtin|workspace|\\.data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.mjs', '.js', '.json'] },
  },
};
