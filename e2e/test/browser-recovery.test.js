// "Forgot password?" in Debian's Chromium, with the mail delivered to a real
// SMTP server (aiosmtpd, lib/smtpd.js): the request page, the same answer
// for every name, the emailed link, the set-password page with errors beside
// the field, the new password, and the used link refused with a clear page.
// axe-core checks every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Gatehouse } from '../lib/gatehouse.js';
import { launch } from '../lib/chromium.js';
import { checkPage, fieldError, labelled } from '../lib/pages.js';
import { startSMTP, decodeQP } from '../lib/smtpd.js';

let smtp;
let gh;
let browser;
let page;

before(async () => {
  smtp = await startSMTP();
  [gh, browser] = await Promise.all([
    Gatehouse.start({ args: ['--smtp-host', '127.0.0.1', '--smtp-port', String(smtp.port), '--smtp-tls', 'none', '--smtp-from', 'Gatehouse <no-reply@gatehouse.test>'] }),
    launch(),
  ]);
  await gh.createUser('rosa.diaz@example.com', 'Orchid-Old-Passw0rd', 'Rosa', 'Diaz');
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await gh?.stop();
  await smtp?.stop();
});

async function ask(who) {
  await page.goto(`${gh.baseURL}/login`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
  await page.getByLabel('Username or email').fill(who);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  return (await page.locator('main').innerText()).replaceAll(who, 'NAME');
}

test('a person resets a forgotten password from the emailed link', async () => {
  await page.goto(`${gh.baseURL}/login`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await checkPage(page, 'reset-01-form');
  await page.getByRole('button', { name: 'Send the link' }).click();
  assert.match(await fieldError(page, 'Username or email'), /Enter your username or email address/);
  await checkPage(page, 'reset-02-form-error');

  const unknown = await ask('nobody@example.com');
  const known = await ask('rosa.diaz@example.com');
  assert.equal(known, unknown, 'the answer depends on the account');
  assert.match(known, /If an account matches NAME, we sent a link/);
  await checkPage(page, 'reset-03-check-email');

  const [raw] = await smtp.waitFor(1);
  assert.match(raw, /^To: "Rosa Diaz" <rosa\.diaz@example\.com>$/m);
  assert.match(raw, /^Subject: Reset your Gatehouse password$/m);
  assert.match(raw, /^Message-ID: <[0-9a-f]{32}@gatehouse\.test>$/m);
  const link = decodeQP(raw).match(new RegExp(`${gh.baseURL.replace(/[.:/]/g, '\\$&')}/reset-password/[A-Za-z0-9_-]{20,}`))?.[0];
  assert.ok(link, 'no link in the message');

  await page.goto(link);
  await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
  await checkPage(page, 'reset-04-set-password');
  await page.getByLabel('New password').fill('short');
  await page.getByLabel('Repeat the password').fill('short');
  await page.getByRole('button', { name: 'Set password' }).click();
  assert.match(await fieldError(page, 'New password'), /\S/);
  await checkPage(page, 'reset-05-weak-password');
  await page.getByLabel('New password').fill('Lantern-New-Passw0rd-26');
  await page.getByLabel('Repeat the password').fill('Lantern-New-Passw0rd-26');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('heading', { name: 'Password changed' }).waitFor();
  await checkPage(page, 'reset-06-done');
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill('rosa.diaz@example.com');
  await page.getByLabel('Password').fill('Lantern-New-Passw0rd-26');
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/app/UserHome');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');

  await page.goto(link);
  assert.match(await page.locator('main').innerText(), /does not work any more/);
  await page.getByRole('link', { name: 'Request a new link' }).waitFor();
  await checkPage(page, 'reset-07-used-link');
  assert.equal((await smtp.messages()).length, 1, 'the unknown name got mail');
});
