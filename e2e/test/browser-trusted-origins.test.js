// A single-page app on another origin signs in with Okta's Auth JavaScript
// SDK (@okta/okta-auth-js, its browser bundle) in Debian's Chromium: the
// page is served on one loopback port, Gatehouse on another. Once the
// page's origin is a Trusted Origin with the CORS scope, the browser's
// preflight and signInWithCredentials go through; the same page on an
// origin Gatehouse does not trust is stopped by the browser. With the
// REDIRECT scope, session.setCookieAndRedirect brings the browser back to
// the app, signed in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Gatehouse, freePort } from '../lib/gatehouse.js';
import { launch } from '../lib/chromium.js';
import { checkPage } from '../lib/pages.js';

const require = createRequire(import.meta.url);
const SDK = path.join(path.dirname(require.resolve('@okta/okta-auth-js/package.json')), 'dist', 'okta-auth-js.authn.min.js');
const LOGIN = 'spa.user@example.com';
const PASSWORD = 'Spa-Passw0rd-2026';

/** Serves the app: an empty page with the SDK, and /done after sign-in. */
async function startApp(port) {
  const sdk = await readFile(SDK);
  const srv = createServer((req, res) => {
    if (req.url === '/okta-auth-js.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(sdk);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>SPA ${req.url}</title><script src="/okta-auth-js.js"></script><h1>${req.url.startsWith('/done') ? 'Back in the app' : 'App'}</h1>`);
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${port}`, stop: () => new Promise((resolve) => srv.close(resolve)) };
}

let gh;
let browser;
let trusted;
let untrusted;

before(async () => {
  [gh, browser] = await Promise.all([Gatehouse.start(), launch()]);
  trusted = await startApp(await freePort());
  untrusted = await startApp(await freePort());
  await gh.createUser(LOGIN, PASSWORD, 'Spa', 'User');
  await gh.mustAPI('POST', '/api/v1/trustedOrigins', { name: 'SPA', origin: trusted.origin, scopes: [{ type: 'CORS' }, { type: 'REDIRECT' }] });
});

after(async () => {
  await browser?.close();
  await trusted?.stop();
  await untrusted?.stop();
  await gh?.stop();
});

/** Runs signInWithCredentials in a page of origin; returns its outcome. */
async function signIn(origin, password = PASSWORD) {
  const page = await browser.context.newPage();
  await page.goto(origin + '/');
  const out = await page.evaluate(async ({ issuer, username, password }) => {
    const auth = new OktaAuth({ issuer, clientId: 'spa', redirectUri: location.origin + '/done' });
    try {
      const tx = await auth.signInWithCredentials({ username, password });
      return { status: tx.status, sessionToken: tx.sessionToken, login: tx.user && tx.user.profile.login };
    } catch (e) {
      return { error: e.name, code: e.errorCode || '', message: String(e.message || e) };
    }
  }, { issuer: `${gh.baseURL}/oauth2/default`, username: LOGIN, password });
  return { page, out };
}

test('a trusted origin signs in with okta-auth-js from the browser', async () => {
  const { page, out } = await signIn(trusted.origin);
  assert.equal(out.status, 'SUCCESS', JSON.stringify(out));
  assert.equal(out.login, LOGIN);
  // A wrong password reads Okta's error: the browser let the page see it.
  const wrong = await page.evaluate(async ({ issuer, username }) => {
    try {
      await new OktaAuth({ issuer, clientId: 'spa' }).signInWithCredentials({ username, password: 'Wrong-Passw0rd-1' });
      return 'signed in';
    } catch (e) {
      return `${e.name} ${e.errorCode}`;
    }
  }, { issuer: `${gh.baseURL}/oauth2/default`, username: LOGIN });
  assert.equal(wrong, 'AuthApiError E0000004');

  // The refused sign-in above was a 401 the page asked for, no problem.
  page.problems.splice(0);
  // setCookieAndRedirect: Gatehouse asks before a sign-in another page
  // started, then sets the cookie and sends the browser back to the app.
  await page.evaluate(({ issuer, token, back }) => new OktaAuth({ issuer, clientId: 'spa' }).session.setCookieAndRedirect(token, back),
    { issuer: `${gh.baseURL}/oauth2/default`, token: out.sessionToken, back: trusted.origin + '/done?from=gatehouse' });
  await page.waitForURL((u) => u.href.startsWith(gh.baseURL));
  await checkPage(page, 'trusted-origin-continue', { screenshot: false });
  await page.getByRole('link', { name: `Continue as ${LOGIN}` }).click();
  await page.waitForURL(trusted.origin + '/done?from=gatehouse');
  assert.equal(await page.locator('h1').textContent(), 'Back in the app');
  const cookies = await browser.context.cookies(gh.baseURL);
  assert.ok(cookies.some((c) => c.name === 'gh_sid'), 'the session cookie is set');
  await page.close();
});

test('an origin Gatehouse does not trust is stopped by the browser', async () => {
  const { page, out } = await signIn(untrusted.origin);
  assert.equal(out.status, undefined, JSON.stringify(out));
  assert.equal(out.error, 'AuthApiError', JSON.stringify(out));
  assert.notEqual(out.code, 'E0000004');
  // Nor may it be the target of a sign-in redirect.
  const r = await fetch(`${gh.baseURL}/login/sessionCookieRedirect?token=x&redirectUrl=${encodeURIComponent(untrusted.origin + '/done')}`, { redirect: 'manual' });
  assert.equal(r.status, 400);
  await page.close();
});
