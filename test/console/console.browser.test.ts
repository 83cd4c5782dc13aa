import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_KEY } from '../access.ts';
import { adminFetch, embeddedProgramEnv, type Program, startProgram, waitForHttp } from '../e2e/program.ts';
import { chromiumAvailable, expectAccessible, launchChromium, signIn, watchFailures } from './browser.ts';

const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);
/** The screenshots in docs/console.md: taken by this test, of the program as it runs. */
const SHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));

/**
 * The web console in a real browser (Debian's Chromium, driven by playwright-core) against the real
 * embedded program: what an operator does, end to end, with an accessibility check on every view.
 */
describe.skipIf(!chromiumAvailable())('the web console in Chromium', { timeout: 120_000 }, () => {
  let program: Program;
  let base: string;
  let dataDir: string;
  let workspace: string;
  const destination = `console-e2e-${process.pid}-${Date.now()}`;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let failures: { errors: string[] };

  beforeAll(async () => {
    // The shipped templates on (empty: the default), so that the templates views have a catalog.
    const setup = await embeddedProgramEnv('console', { SWITCHYARD_BUILTIN_TEMPLATES: '' });
    workspace = setup.env.SWITCHYARD_WORKSPACE!;
    ({ base, dataDir } = setup);
    program = startProgram(['start'], setup.env);
    await waitForHttp(`${base}/health`, program);
    browser = await launchChromium();
    // axe-core is injected as a script, which the console's policy (script-src 'self') would refuse.
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    failures = watchFailures(page);
    page.on('dialog', (d) => void d.accept());
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await program?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (workspace) await rm(join(workspace, destination), { recursive: true, force: true });
  });

  /** A view rendered: its heading, no error box, no page error; accessible; photographed. */
  async function view(name: string, heading: string | RegExp) {
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    await page.waitForLoadState('networkidle').catch(() => undefined);
    expect(await page.getByRole('alert').count(), `${name}: an error shown`).toBe(0);
    expect(failures.errors, name).toEqual([]);
    await expectAccessible(page, name);
    await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: false });
  }

  it('serves its page with a policy that allows no inline or foreign script', async () => {
    const res = await fetch(`${base}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).not.toMatch(/<script>[^<]/);
  });

  it('sends its code gzipped, with an ETag a browser revalidates', async () => {
    const page = await fetch(`${base}/console`).then((r) => r.text());
    const script = /src="([^"]+\.js)"/.exec(page)![1]!;
    const res = await fetch(`${base}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
    const again = await fetch(`${base}${script}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${base}/console/assets/nothing.js`)).status).toBe(404);
  });

  it('asks for a credential first, and refuses a wrong one', async () => {
    await page.goto(`${base}/console`);
    await view('sign-in', 'Switchyard console');
    await page.getByLabel('API key').fill('sy_nope000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
  });

  it('signs in with an API key and shows the overview', async () => {
    await signIn(page, base, TEST_ADMIN_KEY);
    await page
      .getByText('Every enabled server is healthy.')
      .or(page.getByText('No server registered yet.'))
      .waitFor();
    await view('overview', 'Overview');
  });

  it('registers a server from the form drawn from the API schema, and sees it turn healthy', async () => {
    await page.getByRole('link', { name: 'Servers', exact: true }).click();
    await view('servers-empty', 'Servers');
    await page.getByRole('button', { name: 'Register a server' }).click();
    const form = page.getByRole('form', { name: 'Register a server' });
    await form.getByLabel('name', { exact: false }).first().fill('everything');
    await form.getByLabel('type').selectOption('stdio');
    await form.getByLabel('command').fill(process.execPath);
    await form.getByLabel('args').fill(`${EVERYTHING}\nstdio`);
    await form.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'everything', level: 1 }).waitFor();
    await page
      .getByText(/^\W*HEALTHY$/)
      .first()
      .waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Try echo' }).waitFor({ timeout: 30_000 });
    await view('server', 'everything');
  });

  it('calls a tool from the console and finds the call in the audited log, with its events', async () => {
    await page.getByRole('button', { name: 'Try echo' }).click();
    const form = page.getByRole('form', { name: 'Call echo' });
    await form.getByLabel('message').fill('hello from the console');
    await form.getByRole('button', { name: 'Call echo' }).click();
    await page.getByText('hello from the console').first().waitFor();
    await page.getByRole('link', { name: 'this call in the log' }).click();
    await page.getByText('ToolCallSucceeded').first().waitFor({ timeout: 30_000 });
    await page.getByText('ToolCallStarted').first().waitFor();
    await view('call', 'echo on everything');

    await page.getByRole('link', { name: 'Tool calls', exact: true }).click();
    await page.getByRole('cell', { name: 'echo' }).first().waitFor({ timeout: 30_000 });
    await view('calls', 'Tool calls');
  });

  it('generates a project from a template, following its progress', async () => {
    await page.goto(`${base}/console/#/templates/cli-tool`);
    await page.getByRole('heading', { name: /cli-tool/, level: 1 }).waitFor();
    await page.getByLabel('Destination', { exact: true }).fill(destination);
    await page.getByLabel('projectName (required)').fill('console-made');
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await page.getByText('Project generated').waitFor({ timeout: 60_000 });
    await view('template-generated', /cli-tool/);
  });

  it('renders every other view, accessible, and the server page sections', async () => {
    for (const [name, hash, heading] of [
      ['server-resources', '#/servers/everything?tab=resources', 'everything'],
      ['server-prompts', '#/servers/everything?tab=prompts', 'everything'],
      ['server-instances', '#/servers/everything?tab=instances', 'everything'],
      ['server-logs', '#/servers/everything?tab=logs', 'everything'],
      ['server-stats', '#/servers/everything?tab=stats', 'everything'],
      ['server-history', '#/servers/everything?tab=history', 'everything'],
      ['server-deployments', '#/servers/everything?tab=deployments', 'everything'],
      ['server-config', '#/servers/everything?tab=config', 'everything'],
      ['events', '#/events', 'Events'],
      ['templates', '#/templates', 'Templates'],
      ['templates-projects', '#/templates?tab=projects', 'Templates'],
      ['templates-sources', '#/templates?tab=sources', 'Templates'],
      ['access', '#/access', 'Access'],
      ['access-keys', '#/access?tab=keys', 'Access'],
      ['access-grants', '#/access?tab=grants', 'Access'],
      ['access-policies', '#/access?tab=policies', 'Access'],
      ['access-rate-limits', '#/access?tab=rate-limits', 'Access'],
      ['access-explain', '#/access?tab=explain', 'Access'],
      ['system', '#/system', 'System'],
      ['overview-live', '#/overview', 'Overview'],
    ] as const) {
      await page.goto(`${base}/console/${hash}`);
      await view(name, heading);
    }
    await page.getByRole('button', { name: 'Dark theme' }).click();
    await view('overview-dark', 'Overview');
    await page.getByRole('button', { name: 'Light theme' }).click();
  });

  it('a reader sees what a reader may: no write actions offered, refusals said in words', async () => {
    const created = await adminFetch(`${base}/api/v1/principals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'auditor', roles: ['reader'] }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const key = await adminFetch(`${base}/api/v1/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'auditor key', principalId: created.id }),
    }).then((r) => r.json() as Promise<{ key: string }>);
    const theirs = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const theirPage = await theirs.newPage();
    const theirFailures = watchFailures(theirPage);
    await signIn(theirPage, base, key.key);
    await theirPage.goto(`${base}/console/#/servers`);
    await theirPage.getByRole('link', { name: 'everything' }).waitFor();
    expect(await theirPage.getByRole('button', { name: 'Register a server' }).count()).toBe(0);
    await theirPage.goto(`${base}/console/#/servers/everything`);
    await theirPage.getByRole('heading', { name: 'everything', level: 1 }).waitFor();
    expect(await theirPage.getByRole('button', { name: 'Remove' }).count()).toBe(0);
    expect(await theirPage.getByRole('button', { name: 'Try echo' }).count()).toBe(0);
    await theirPage.goto(`${base}/console/#/system`);
    await theirPage
      .getByText(/not allowed|administrators/i)
      .first()
      .waitFor({ timeout: 30_000 });
    expect(theirFailures.errors).toEqual([]);
    await theirs.close();
  });

  it('a revoked key: its console session is refused at its next request', async () => {
    const admin = (path: string, body: unknown) =>
      adminFetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, string>>);
    const operator = await admin('/principals', { name: 'night-operator', roles: ['manager'] });
    const issued = await admin('/api-keys', { name: 'night-operator laptop', principalId: operator.id });

    const theirs = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const theirPage = await theirs.newPage();
    await signIn(theirPage, base, issued.key!);

    await page.goto(`${base}/console/#/access?tab=keys`);
    await page.getByRole('button', { name: `Revoke key ${issued.keyId}` }).click();
    await page
      .getByRole('button', { name: `Revoke key ${issued.keyId}` })
      .waitFor({ state: 'detached', timeout: 30_000 });

    await theirPage.getByRole('link', { name: 'Servers', exact: true }).click();
    await theirPage.getByText(/no longer accepted/).waitFor({ timeout: 30_000 });
    await theirPage.getByLabel('API key').waitFor();
    await theirs.close();
  });
});
