// Passkeys in Debian's Chromium with its virtual authenticator (the
// DevTools WebAuthn domain: WebAuthn.enable, WebAuthn.addVirtualAuthenticator):
// a person adds a passkey on the Settings page, signs out, and signs in
// again with their password and the passkey as the second factor.
// Gatehouse is served as http://localhost:<port>, since WebAuthn refuses IP
// addresses as relying party IDs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gatehouse } from '../lib/gatehouse.js';
import { launch } from '../lib/chromium.js';
import { checkPage } from '../lib/pages.js';

const PERSON = { login: 'nadia.passkey@example.com', password: 'Secure-Ready-2026' };

let gh;
let browser;

before(async () => {
  [gh, browser] = await Promise.all([Gatehouse.start({ host: 'localhost' }), launch()]);
  await gh.createUser(PERSON.login, PERSON.password, 'Nadia', 'Keys');
});

after(async () => {
  await browser?.close();
  await gh?.stop();
});

async function signIn(page) {
  await page.goto(`${gh.baseURL}/login`);
  await page.getByLabel('Username').fill(PERSON.login);
  await page.getByLabel('Password').fill(PERSON.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
}

test('a passkey added on the Settings page signs the person in as their second factor', async () => {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });

  // No factor yet: the password alone signs in.
  await signIn(page);
  assert.equal(new URL(page.url()).pathname, '/app/UserHome');

  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Security methods' }).waitFor();
  await checkPage(page, 'passkey-1-settings');
  await page.getByLabel('Name for a new passkey').fill('Test laptop');
  await page.getByRole('button', { name: 'Add passkey or security key' }).click();
  await page.waitForURL((u) => u.pathname === '/enduser/settings' && u.searchParams.get('saved') === 'passkey');
  await page.getByRole('status').filter({ hasText: 'Your passkey was added.' }).waitFor();
  const row = page.getByRole('row').filter({ hasText: 'Test laptop' });
  assert.match(await row.innerText(), /Passkey or security key/);
  await checkPage(page, 'passkey-2-added');
  let { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the virtual authenticator holds one credential');
  assert.equal(credentials[0].rpId, 'localhost');
  const countBefore = credentials[0].signCount;

  // Sign out; signing in now asks for the passkey after the password.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
  await signIn(page);
  assert.equal(new URL(page.url()).pathname, '/login/verify');
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), "Verify it's you");
  await checkPage(page, 'passkey-3-verify');
  await page.getByRole('button', { name: 'Use a passkey or security key' }).click();
  await page.waitForURL((u) => u.pathname === '/app/UserHome');
  await page.getByRole('heading', { name: 'My Apps' }).waitFor();

  ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
  assert.ok(credentials[0].signCount > countBefore, 'the assertion moved the signature counter');

  // The session records a hardware key as its second factor.
  const users = await gh.mustAPI('GET', `/api/v1/users?q=${encodeURIComponent(PERSON.login)}`);
  const sessions = await gh.mustAPI('GET', `/api/v1/users/${users[0].id}/sessions`);
  assert.ok(sessions.some((s) => s.amr.includes('hwk') && s.amr.includes('pwd')), JSON.stringify(sessions));
  // The factors API lists the passkey under its name.
  const factors = await gh.mustAPI('GET', `/api/v1/users/${users[0].id}/factors`);
  assert.deepEqual(factors.map((f) => [f.factorType, f.provider, f.status, f.profile.authenticatorName]), [['webauthn', 'FIDO', 'ACTIVE', 'Test laptop']]);
});
