// Sign in with Google and LinkedIn against a real OpenID Connect provider
// (the npm oidc-provider package, lib/oidcprovider.js) standing in for each,
// in Debian's Chromium and with a cookie-jar HTTP client.
//
// Gatehouse runs as the shipped binary with --google-issuer and
// --linkedin-issuer pointing at the local providers. The Google provider is
// configured through the console (Security → Identity Providers → Add
// Google) in the browser, LinkedIn through /api/v1/idps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Gatehouse, freePort, ADMIN_EMAIL, ADMIN_PASSWORD } from '../lib/gatehouse.js';
import { Browser, htmlUnescape } from '../lib/browser.js';
import { launch } from '../lib/chromium.js';
import { checkPage, labelled } from '../lib/pages.js';
import { startProvider } from '../lib/oidcprovider.js';

const NADIA = { sub: 'g-1001', email: 'nadia.novak@example.com', email_verified: true, given_name: 'Nadia', family_name: 'Novak', name: 'Nadia Novak', picture: 'https://lh3.googleusercontent.com/a/nadia', hd: 'example.com' };
const EVE = { sub: 'g-2002', email: 'eve.moss@example.com', email_verified: false, given_name: 'Eve', family_name: 'Moss', name: 'Eve Moss', picture: 'https://lh3.googleusercontent.com/a/eve' };
const LEE = { sub: 'li-77', email: 'lee.park@example.com', email_verified: true, given_name: 'Lee', family_name: 'Park', name: 'Lee Park', locale: { country: 'US', language: 'en' }, picture: 'https://media.licdn.com/lee' };

let gh;
let google;
let linkedin;
let browser;
let page;
let linkedinID;
let googleID;
let lee;
let staff;

before(async () => {
  const [ghPort, gPort, liPort] = [await freePort(), await freePort(), await freePort()];
  const redirectURI = `http://127.0.0.1:${ghPort}/oauth2/v1/authorize/callback`;
  google = await startProvider({ port: gPort, kind: 'google', clientId: 'gatehouse.apps.googleusercontent.com', clientSecret: 'GOCSPX-' + randomBytes(12).toString('hex'),
    redirectURI, accounts: { [NADIA.email]: NADIA, [EVE.email]: EVE } });
  linkedin = await startProvider({ port: liPort, path: '/oauth', kind: 'linkedin', clientId: '86gatehouse', clientSecret: 'WPL_AP1.' + randomBytes(12).toString('hex'),
    redirectURI, accounts: { [LEE.email]: LEE } });
  [gh, browser] = await Promise.all([
    Gatehouse.start({ port: ghPort, args: ['--google-issuer', google.issuer, '--linkedin-issuer', linkedin.issuer] }),
    launch(),
  ]);
  page = await browser.context.newPage();
  staff = await gh.createGroup('Staff');
  lee = await gh.createUser(LEE.email, 'Lee-Passw0rd-2026', 'Lee', 'Park');
  const li = await gh.mustAPI('POST', '/api/v1/idps', {
    type: 'LINKEDIN', name: 'LinkedIn',
    protocol: { type: 'OIDC', scopes: ['openid', 'email', 'profile'], credentials: { client: { client_id: linkedin.clientId, client_secret: linkedin.clientSecret } } },
    policy: { provisioning: { action: 'DISABLED' }, accountLink: { action: 'AUTO' }, subject: { matchType: 'EMAIL' } },
  });
  linkedinID = li.id;
});

after(async () => {
  await browser?.close();
  await gh?.stop();
  await google?.stop();
  await linkedin?.stop();
});

async function logReasons(eventType) {
  const filter = encodeURIComponent(`eventType eq "${eventType}" and outcome.result eq "FAILURE"`);
  const evs = await gh.mustAPI('GET', `/api/v1/logs?limit=200&filter=${filter}`);
  return evs.map((e) => e.outcome.reason);
}

async function signInAtProvider(email) {
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Next' }).click();
}

test('an administrator adds Google in the console, with the redirect URI to register', async () => {
  await page.goto(`${gh.baseURL}/login`);
  await page.getByLabel('Username').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
  await page.goto(`${gh.baseURL}/admin`);
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Identity Providers' }).click();
  await page.getByRole('heading', { name: 'Identity Providers' }).waitFor();
  await checkPage(page, 'idp-01-list');
  await page.getByRole('link', { name: 'Add Google' }).click();
  await page.getByRole('heading', { name: 'Add Google identity provider' }).waitFor();
  assert.equal(await page.getByLabel('Redirect URI to register at the provider').inputValue(), `${gh.baseURL}/oauth2/v1/authorize/callback`);
  await checkPage(page, 'idp-02-add-google');
  // Without a client ID the form comes back with the error beside it.
  await page.getByLabel(labelled('Client secret')).fill(google.clientSecret);
  await page.getByRole('button', { name: 'Add Google' }).click();
  await page.getByRole('alert').first().waitFor();
  const clientID = page.getByLabel(labelled('Client ID'));
  assert.equal(await clientID.getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator(`[id="${(await clientID.getAttribute('aria-describedby')).split(' ')[0]}"]`).innerText(), /client_id: required/);
  await checkPage(page, 'idp-03-add-google-error');
  await clientID.fill(google.clientId);
  await page.getByLabel(labelled('Client secret')).fill(google.clientSecret);
  await page.getByLabel('Link to an existing person by').selectOption({ label: 'Verified email address' });
  await page.getByLabel('Add created people to these groups').selectOption({ label: 'Staff' });
  await page.getByRole('button', { name: 'Add Google' }).click();
  await page.getByRole('status').filter({ hasText: 'Created.' }).waitFor();
  googleID = new URL(page.url()).pathname.split('/').pop();
  assert.equal(await page.getByLabel(labelled('Client secret')).inputValue(), '', 'the secret is shown again');
  assert.ok(!(await page.content()).includes(google.clientSecret), 'the secret is in the page');
  await checkPage(page, 'idp-04-google');
  const idp = await gh.mustAPI('GET', `/api/v1/idps/${googleID}`);
  assert.equal(idp.type, 'GOOGLE');
  assert.equal(idp.status, 'ACTIVE');
  assert.equal(idp.protocol.credentials.client.client_id, google.clientId);
  assert.equal(idp.protocol.credentials.client.client_secret, undefined);
  assert.deepEqual(idp.policy.provisioning.groups, { action: 'ASSIGN', assignments: [staff.id] });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
});

test('Sign in with Google creates the person just in time; Sign in with LinkedIn links an existing person by verified email', async () => {
  await page.goto(`${gh.baseURL}/login`);
  await checkPage(page, 'idp-10-sign-in-buttons');
  await page.getByRole('link', { name: 'Sign in with Google' }).click();
  await page.waitForURL((u) => u.port === new URL(google.issuer).port);
  await signInAtProvider(NADIA.email);
  await page.waitForURL((u) => u.origin === gh.baseURL && u.pathname === '/app/UserHome');
  await page.getByText('Nadia Novak').first().waitFor();
  await checkPage(page, 'idp-11-google-jit-dashboard');

  const nadia = await gh.mustAPI('GET', `/api/v1/users/${encodeURIComponent(NADIA.email)}`);
  assert.equal(nadia.status, 'ACTIVE');
  assert.deepEqual([nadia.profile.firstName, nadia.profile.lastName, nadia.profile.email], ['Nadia', 'Novak', NADIA.email]);
  const groups = await gh.mustAPI('GET', `/api/v1/users/${nadia.id}/groups`);
  assert.ok(groups.some((g) => g.id === staff.id), 'not added to Staff');
  const link = await gh.mustAPI('GET', `/api/v1/idps/${googleID}/users/${nadia.id}`);
  assert.equal(link.externalId, NADIA.sub);
  assert.equal(link.profile.hd, 'example.com');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');

  const before = (await gh.mustAPI('GET', '/api/v1/users?limit=200')).length;
  await page.getByRole('link', { name: 'Sign in with LinkedIn' }).click();
  await page.waitForURL((u) => u.port === new URL(linkedin.issuer).port);
  await signInAtProvider(LEE.email);
  await page.waitForURL((u) => u.origin === gh.baseURL && u.pathname === '/app/UserHome');
  await page.getByText('Lee Park').first().waitFor();
  const leeLink = await gh.mustAPI('GET', `/api/v1/idps/${linkedinID}/users/${lee.id}`);
  assert.equal(leeLink.externalId, LEE.sub);
  assert.equal((await gh.mustAPI('GET', '/api/v1/users?limit=200')).length, before, 'linking created a person');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');

  // The administrator finds Nadia in the console with her Google link.
  await page.getByLabel('Username').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
  await page.goto(`${gh.baseURL}/admin/people?q=nadia`);
  await page.getByRole('link', { name: 'Nadia Novak' }).click();
  const idps = page.locator('#idps');
  await idps.getByRole('link', { name: 'Google' }).waitFor();
  assert.match(await idps.innerText(), /g-1001/);
  await checkPage(page, 'idp-12-person-links');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
});

test('an unverified Google email is refused with a page that says why, and logged', async () => {
  const before = (await gh.mustAPI('GET', '/api/v1/users?limit=200')).length;
  await page.goto(`${gh.baseURL}/login`);
  await page.getByRole('link', { name: 'Sign in with Google' }).click();
  await page.waitForURL((u) => u.port === new URL(google.issuer).port);
  await signInAtProvider(EVE.email);
  await page.getByRole('heading', { name: 'Sign-in failed' }).waitFor();
  assert.match(await page.locator('main').innerText(), /email address is not verified/);
  await checkPage(page, 'idp-20-unverified');
  assert.equal((await gh.mustAPI('GET', '/api/v1/users?limit=200')).length, before, 'a person was created');
  assert.ok((await logReasons('user.authentication.auth_via_IDP')).includes('UNVERIFIED_EMAIL'));
});

// The cookie-jar client drives Gatehouse and the provider without a
// browser and stops before Gatehouse's callback, to tamper with it.
async function toCallback(b, idpID, email) {
  let r = await b.get(`/sso/idps/${idpID}/start?next=%2Fapp%2FUserHome`);
  assert.equal(r.status, 302, `start: ${r.status} ${r.body.slice(0, 300)}`);
  r = await b.get(new URL(r.headers.get('location'), r.url).href); // authorize
  for (let i = 0; i < 5 && r.status >= 300 && r.status < 400; i++) {
    r = await b.get(new URL(r.headers.get('location'), r.url).href);
  }
  const action = r.body.match(/<form method="post" action="([^"]+)"/);
  assert.ok(action, `no sign-in form at the provider: ${r.status} ${r.body.slice(0, 300)}`);
  r = await b.post(new URL(htmlUnescape(action[1]), r.url).href, { email });
  for (let i = 0; i < 5; i++) {
    const next = new URL(r.headers.get('location'), r.url);
    if (next.origin === new URL(gh.baseURL).origin) return next.href;
    r = await b.get(next.href);
  }
  throw new Error('the provider did not send the browser back to Gatehouse');
}

const jar = () => new Browser(gh.baseURL, { allow: [google.issuer, linkedin.issuer] });

test('a bad state, a replayed code and a provider that is down are refused with a clear page and logged', async () => {
  // Bad state.
  let r = await jar().get('/oauth2/v1/authorize/callback?state=forged-state&code=abc');
  assert.equal(r.status, 400);
  assert.match(r.body, /expired or was already used/);
  assert.ok((await logReasons('user.authentication.auth_via_IDP')).includes('INVALID_STATE'));

  // A code that was already redeemed, brought back with a fresh state.
  const first = jar();
  const used = await toCallback(first, googleID, NADIA.email);
  r = await first.get(used);
  assert.equal(r.status, 303, `first callback: ${r.status} ${r.body.slice(0, 300)}`);
  assert.equal(r.headers.get('location'), '/app/UserHome');
  const second = jar();
  const fresh = new URL(await toCallback(second, googleID, NADIA.email));
  fresh.searchParams.set('code', new URL(used).searchParams.get('code'));
  r = await second.get(fresh.href);
  assert.equal(r.status, 403);
  assert.match(r.body, /refused the sign-in code/);
  assert.ok(second.cookie('gh_sid') === undefined, 'a session was started');
  assert.ok((await logReasons('user.authentication.auth_via_IDP')).some((x) => x.startsWith('TOKEN_EXCHANGE_FAILED: invalid_grant')));

  // The provider goes down between the authorization and the callback.
  const third = jar();
  const pending = await toCallback(third, linkedinID, LEE.email);
  await linkedin.stop();
  try {
    r = await third.get(pending);
    assert.equal(r.status, 502);
    assert.match(r.body, /LinkedIn cannot be reached right now/);
    assert.equal(third.cookie('gh_sid'), undefined);
    assert.ok((await logReasons('user.authentication.auth_via_IDP')).includes('PROVIDER_UNAVAILABLE'));
  } finally {
    await linkedin.start();
  }
  // Back up: the same person signs in again.
  const fourth = jar();
  r = await fourth.get(await toCallback(fourth, linkedinID, LEE.email));
  assert.equal(r.status, 303);
  assert.ok(fourth.cookie('gh_sid'));
});
