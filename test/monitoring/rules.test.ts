import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../deploy/monitoring/', import.meta.url));
const promtool = process.env.PROMTOOL ?? 'promtool';
const found = spawnSync(promtool, ['--version'], { encoding: 'utf8' }).status === 0;
// CI provides promtool (.ci/run): there, a missing one is a failure, not a skip.
const ci = process.env.CI === 'true';
if (!found && !ci)
  console.warn(
    '!!! Prometheus alert rules NOT CHECKED: promtool is missing (Debian: the `prometheus` package; or set PROMTOOL)',
  );

function run(...args: string[]) {
  const r = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!found && !ci)('the shipped Prometheus alert rules', () => {
  it('pass promtool check rules', () => {
    expect(found, `promtool not found (${promtool})`).toBe(true);
    const r = run('check', 'rules', 'switchyard.rules.yml');
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('raise each alert on the series that should raise it, and not on healthy ones (promtool test rules)', () => {
    expect(found, `promtool not found (${promtool})`).toBe(true);
    const r = run('test', 'rules', 'switchyard.rules.test.yml');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('SUCCESS');
  });

  it('load with the example scrape configuration (promtool check config, with a key file in place)', () => {
    expect(found, `promtool not found (${promtool})`).toBe(true);
    const tmp = mkdtempSync(join(tmpdir(), 'sy-prometheus-'));
    try {
      const key = join(tmp, 'switchyard-metrics.key');
      writeFileSync(key, 'sy_placeholder\n');
      const config = readFileSync(`${dir}prometheus.yml`, 'utf8').replace(
        /credentials_file: \S+/,
        `credentials_file: ${key}`,
      );
      writeFileSync(join(tmp, 'prometheus.yml'), config);
      copyFileSync(`${dir}switchyard.rules.yml`, join(tmp, 'switchyard.rules.yml'));
      const r = spawnSync(promtool, ['check', 'config', 'prometheus.yml'], { cwd: tmp, encoding: 'utf8' });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('SUCCESS: 11 rules found');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('the shipped Grafana dashboard', () => {
  it('is a dashboard whose panels all query the Prometheus data source it asks for', () => {
    const dashboard = JSON.parse(readFileSync(`${dir}switchyard.dashboard.json`, 'utf8')) as {
      uid: string;
      templating: { list: Array<{ name: string; type: string }> };
      panels: Array<{ type: string; targets?: Array<{ expr: string; datasource: { uid: string } }> }>;
    };
    expect(dashboard.templating.list.map((v) => v.name)).toContain('datasource');
    const queries = dashboard.panels.filter((p) => p.type !== 'row');
    expect(queries.length).toBeGreaterThan(10);
    for (const p of queries) {
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.datasource.uid).toBe(['$', '{datasource}'].join(''));
        expect(t.expr).toMatch(/switchyard_/);
      }
    }
  });
});
