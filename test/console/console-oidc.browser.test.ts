import { rm } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedProgramEnv, type Program, startProgram, waitForHttp } from '../e2e/program.ts';
import { type OidcProvider, startOidcProvider } from '../oidc/provider.ts';
import { chromiumAvailable, expectAccessible, launchChromium, watchFailures } from './browser.ts';

const CLIENT = 'switchyard-console';
/** Who signs in at the provider: her access tokens carry these claims. */
const ALICE = { email: 'alice@example.test', groups: ['switchyard-admins'] };

/** The page's sessionStorage (this test is type-checked without the DOM library). */
type PageStorage = { sessionStorage: { getItem(key: string): string | null; clear(): void } };
/** The credential the console keeps in its tab (console/app/auth.ts). */
const credentialIn = (page: Page) =>
  page.evaluate(() =>
    (globalThis as unknown as PageStorage).sessionStorage.getItem('switchyard.console.credential'),
  );

/**
 * Signing in to the web console through an OpenID provider (authorization code + PKCE) in a real
 * browser: a real oidc-provider in-process with its own login and consent pages, the real embedded
 * program, Debian's Chromium — with the console's Content-Security-Policy in force.
 */
describe.skipIf(!chromiumAvailable())(
  'the web console signs in through the OpenID provider',
  { timeout: 120_000 },
  () => {
    let idp: OidcProvider;
    let program: Program;
    let base: string;
    let dataDir: string;
    let browser: Browser;

    beforeAll(async () => {
      const setup = await embeddedProgramEnv('console-oidc');
      ({ base, dataDir } = setup);
      // Registered as docs/identity-providers.md says: the gateway is known by its MCP resource URL.
      idp = await startOidcProvider({
        publicClients: { [CLIENT]: [`${base}/console/`] },
        users: { alice: ALICE },
        resourceServers: [`${base}/mcp`],
      });
      program = startProgram(['start'], {
        ...setup.env,
        SWITCHYARD_OIDC_ISSUER: idp.issuer,
        SWITCHYARD_OIDC_ROLES: JSON.stringify([
          { claim: 'groups', value: 'switchyard-admins', role: 'admin' },
        ]),
        SWITCHYARD_CONSOLE_CLIENT_ID: CLIENT,
      });
      await waitForHttp(`${base}/health`, program);
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      await program?.stop();
      await idp?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    /** To the provider's login page from the console's sign-in button. */
    async function toLoginPage(page: Page) {
      await page.goto(`${base}/console`);
      await page.getByRole('button', { name: `Sign in with ${new URL(idp.issuer).host}` }).click();
      await page.waitForURL(`${idp.issuer}/interaction/**`);
    }

    /** Signed in as alice at the provider (any password will do there): its consent page. */
    async function toConsentPage(page: Page) {
      await toLoginPage(page);
      await page.locator('input[name="login"]').fill('alice');
      await page.locator('input[name="password"]').fill('any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).waitFor();
    }

    it('tells the page where to sign in: issuer, client, scopes and the gateway as resource', async () => {
      const res = await fetch(`${base}/console/config.json`);
      expect((await res.json()) as object).toMatchObject({
        oidc: { issuer: idp.issuer, clientId: CLIENT, resource: `${base}/mcp` },
      });
    });

    it('signs in at the provider, comes back signed in, and calls the API with the access token', async () => {
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      const failures = watchFailures(page);
      const bearers = new Set<string>();
      page.on('request', (r) => {
        if (r.url().startsWith(`${base}/api/v1/`)) bearers.add(r.headers().authorization ?? '(none)');
      });

      await toConsentPage(page);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${base}/console/**`);
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      await page.locator('header').getByText(ALICE.email).waitFor();
      // The code and state are gone from the address bar.
      expect(new URL(page.url()).search).toBe('');
      await page.getByText('No server registered yet.').waitFor();
      expect(await page.getByRole('alert').count(), 'an error shown').toBe(0);
      expect(failures.errors).toEqual([]);

      // The credential is an access token of the provider for this gateway, and every API request carries it.
      const token = await credentialIn(page);
      expect(token).toBeTruthy();
      expect(decodeJwt(token!)).toMatchObject({
        iss: idp.issuer,
        aud: `${base}/mcp`,
        sub: 'alice',
        client_id: CLIENT,
      });
      expect([...bearers]).toEqual([`Bearer ${token}`]);
      const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect((await me.json()) as object).toMatchObject({
        name: ALICE.email,
        kind: 'user',
        roles: expect.arrayContaining(['admin']),
        scopes: ['mcp:read', 'mcp:execute', 'mcp:write', 'mcp:manage'],
        credential: { type: 'oidc', issuer: idp.issuer, subject: 'alice' },
      });
      await context.close();
    });

    it('says so when the user declines at the provider', async () => {
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
      const page = await context.newPage();
      await toConsentPage(page);
      await page.getByRole('link', { name: '[ Cancel ]' }).click();
      await page.waitForURL(`${base}/console/**`);
      await page.getByRole('alert').getByText('refused the sign-in: access_denied').waitFor();
      await page.getByLabel('API key').waitFor();
      await context.close();
    });

    it('refuses an answer whose state is not the one this tab sent, and says so', async () => {
      // Accessibility is checked with axe-core, injected as a script the page's policy would refuse.
      const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      let exchanged = false;
      page.on('request', (r) => {
        if (r.url().startsWith(`${idp.issuer}/token`)) exchanged = true;
      });

      // A sign-in under way in this tab (its verifier and state kept), then an answer with another state.
      await toLoginPage(page);
      await page.goto(`${base}/console/?code=x&state=wrong`);
      await page.getByRole('alert').getByText('does not match this tab').waitFor();
      await page.getByLabel('API key').waitFor();
      expect(exchanged, 'the code was sent to the token endpoint').toBe(false);
      expect(await credentialIn(page)).toBeNull();
      await expectAccessible(page, 'sign-in refused');

      // A tab that started nothing refuses an answer as well.
      await page.evaluate(() => (globalThis as unknown as PageStorage).sessionStorage.clear());
      await page.goto(`${base}/console/?code=x&state=wrong`);
      await page.getByRole('alert').getByText('does not match this tab').waitFor();
      await context.close();
    });
  },
);
