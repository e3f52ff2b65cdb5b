// The agent's half of the Amazon Connect story in a real browser (Debian's
// Chromium through playwright-core): `gatehouse demo` sets up the AWS
// sandbox and Gatehouse with the administrator's half done; the agent signs
// in by typing into the labelled fields, sees the "Amazon Connect" tile,
// clicks it, and the new tab posts the signed SAML response to the
// sandbox's AWS sign-in, which sends the agent on to the Connect instance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Demo } from '../lib/demo.js';
import { launch } from '../lib/chromium.js';
import { checkPage, publishScreenshot, OUT } from '../lib/pages.js';

let demo;
let browser;

before(async () => {
  [demo, browser] = await Promise.all([Demo.start(), launch()]);
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

test('agent signs in, clicks the Amazon Connect tile and lands on the Connect agent page', async () => {
  const { info } = demo;
  const page = await browser.context.newPage();

  await page.goto(info.sign_in_url);
  assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), 'Sign In');
  await page.getByLabel('Username').fill(info.agent.username);
  await page.getByLabel('Password').fill(info.agent.password);
  await checkPage(page, 'agent-1-sign-in');
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();

  await page.waitForURL((u) => u.pathname === '/app/UserHome');
  const tile = page.getByRole('link', { name: 'Amazon Connect' });
  await tile.waitFor();
  const dashboardShot = await checkPage(page, 'agent-2-dashboard');

  // The tile opens a new tab (target=_blank): Gatehouse's auto-POST page,
  // then the sandbox's AWS sign-in, then the Connect federation URL.
  const [tab] = await Promise.all([page.waitForEvent('popup'), tile.click()]);
  const federate = `${info.sandbox.url}/connect/federate/${info.sandbox.connect_instance_id}`;
  await tab.waitForURL(federate, { timeout: 15_000 });
  assert.equal(await tab.locator('#username').innerText(), info.agent.username);
  assert.match(await tab.locator('#ccp').innerText(), new RegExp(`Signed in to Amazon Connect as ${info.agent.username.replace(/\./g, '\\.')}`));
  await tab.waitForLoadState('load');
  const agentShot = path.join(OUT, 'agent-3-connect.png');
  await tab.screenshot({ path: agentShot, fullPage: true });
  // The sandbox page is a stand-in for AWS, not Gatehouse: no axe here.

  // The agent is still on the dashboard in the first tab.
  assert.equal(new URL(page.url()).pathname, '/app/UserHome');

  await publishScreenshot(dashboardShot, 'dashboard');
  await publishScreenshot(agentShot, 'connect-agent');
});
