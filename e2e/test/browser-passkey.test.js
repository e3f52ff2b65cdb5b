// Passkeys in Debian's Chromium with its virtual authenticator (the
// DevTools WebAuthn domain: WebAuthn.enable, WebAuthn.addVirtualAuthenticator):
// a person adds a passkey on the Settings page, signs out, and signs in
// again with their password and the passkey as the second factor; another
// signs in with the passkey alone ("Sign in with a passkey", no username),
// and once suspended is refused.
// Gatehouse is served as http://localhost:<port>, since WebAuthn refuses IP
// addresses as relying party IDs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gatehouse } from '../lib/gatehouse.js';
import { launch } from '../lib/chromium.js';
import { checkPage } from '../lib/pages.js';

const PERSON = { login: 'nadia.passkey@example.com', password: 'Secure-Ready-2026' };
const PASSWORDLESS = { login: 'omar.passwordless@example.com', password: 'Quiet-Harbor-2026' };

let gh;
let browser;

before(async () => {
  [gh, browser] = await Promise.all([Gatehouse.start({ host: 'localhost' }), launch()]);
  await gh.createUser(PERSON.login, PERSON.password, 'Nadia', 'Keys');
  PASSWORDLESS.id = (await gh.createUser(PASSWORDLESS.login, PASSWORDLESS.password, 'Omar', 'Keyless')).id;
});

after(async () => {
  await browser?.close();
  await gh?.stop();
});

async function signIn(page, person = PERSON) {
  await page.goto(`${gh.baseURL}/login`);
  await page.getByLabel('Username').fill(person.login);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
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

test('a passkey alone signs the person in from the sign-in page; a suspended person\'s passkey is refused', async () => {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  await browser.context.clearCookies(); // the first test's session
  const sessionCookie = async () => (await browser.context.cookies(gh.baseURL)).find((c) => c.name === 'gh_sid');

  // Enrolment (password first, no factor yet) creates a discoverable credential.
  await signIn(page, PASSWORDLESS);
  assert.equal(new URL(page.url()).pathname, '/app/UserHome');
  await page.goto(`${gh.baseURL}/enduser/settings`);
  await page.getByLabel('Name for a new passkey').fill('Phone');
  await page.getByRole('button', { name: 'Add passkey or security key' }).click();
  await page.waitForURL((u) => u.pathname === '/enduser/settings' && u.searchParams.get('saved') === 'passkey');
  let { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'the passkey is a discoverable (resident) credential');
  assert.equal(Buffer.from(credentials[0].userHandle, 'base64').toString(), PASSWORDLESS.id, 'its user handle is the person\'s id');
  const countBefore = credentials[0].signCount;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(await sessionCookie(), undefined);

  // No username, no password: the button alone, back to the page asked for.
  await page.goto(`${gh.baseURL}/login?next=${encodeURIComponent('/enduser/settings')}`);
  await checkPage(page, 'passkey-4-signin');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL((u) => u.pathname === '/enduser/settings');
  await page.getByRole('heading', { name: 'Security methods' }).waitFor();
  ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
  assert.ok(credentials[0].signCount > countBefore, 'the assertion moved the signature counter');
  let sessions = await gh.mustAPI('GET', `/api/v1/users/${PASSWORDLESS.id}/sessions`);
  const passkeySession = sessions.find((s) => s.amr.includes('hwk'));
  assert.ok(passkeySession, JSON.stringify(sessions));
  // The session API names only the methods of Okta's SessionAuthenticationMethod enum: the
  // passkey's user presence and verification (RFC 8176 "user", "pin") are not among them.
  assert.deepEqual(passkeySession.amr, ['hwk', 'mfa']);
  assert.equal(passkeySession.lastPasswordVerification, null, 'no password was used');
  assert.ok(passkeySession.lastFactorVerification, 'the passkey counts as the factor');
  const logs = await gh.mustAPI('GET', `/api/v1/logs?filter=${encodeURIComponent('eventType eq "user.session.start"')}`);
  assert.ok(logs.some((e) => e.outcome.result === 'SUCCESS' && e.debugContext?.debugData?.authnMethod === 'passkey' && e.actor.id === PASSWORDLESS.id),
    JSON.stringify(logs.map((e) => [e.outcome, e.actor.id, e.debugContext])));

  // Suspended: the same passkey is refused with a message, and no session starts.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
  await gh.mustAPI('POST', `/api/v1/users/${PASSWORDLESS.id}/lifecycle/suspend`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.locator('#passkey-error').filter({ hasText: 'Unable to sign in with this passkey' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/login');
  // The refusal is the one expected failed call (401), nothing else.
  assert.deepEqual(page.problems.splice(0).map((p) => p.replace(/\?.*$/, '')), [`401 POST ${gh.baseURL}/login/passkey`]);
  await checkPage(page, 'passkey-5-refused');
  assert.equal(await sessionCookie(), undefined, 'no session for a suspended person');
  sessions = await gh.mustAPI('GET', `/api/v1/users/${PASSWORDLESS.id}/sessions`);
  assert.deepEqual(sessions, []);
  const refused = await gh.mustAPI('GET', `/api/v1/logs?filter=${encodeURIComponent('eventType eq "user.session.start" and outcome.result eq "FAILURE"')}`);
  assert.ok(refused.some((e) => e.outcome.reason === 'USER_NOT_ACTIVE: SUSPENDED'), JSON.stringify(refused.map((e) => e.outcome)));
  await gh.mustAPI('POST', `/api/v1/users/${PASSWORDLESS.id}/lifecycle/unsuspend`);
  await page.close();
});
