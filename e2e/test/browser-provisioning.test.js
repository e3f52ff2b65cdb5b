// Amazon Connect provisioning in the console, clicked by visible labels in
// Debian's Chromium (playwright-core) against `gatehouse demo`: attribute
// mappings edited (an error beside its row) and previewed for a person;
// the Connect security and routing profile pickers of an assignment, fed
// by the sandbox instance's profiles; deprovisioning set to strip security
// profiles (a missing fallback refused beside its field); a task AWS
// refuses shown with AWS's error and retried after the fix; Push Now
// showing its differences first; the Sign On tab's single logout and
// encryption certificate upload; the People status filter.
//
// Every Gatehouse page reached is checked with axe-core (no serious or
// critical violations) and for script errors and CSP refusals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Demo } from '../lib/demo.js';
import { launch } from '../lib/chromium.js';
import { checkPage, fieldError, labelled, publishScreenshot } from '../lib/pages.js';
import { signOn } from '../lib/fixtures.js';
import { makeSPKeyPair } from '../lib/spkeys.js';

const PIA = { login: 'pia.picker@example.com', firstName: 'Pia', lastName: 'Picker', password: 'Routing-Profile-42' };
const RAY = { login: 'ray.retry@example.com', firstName: 'Ray', lastName: 'Retry', password: 'Backoff-Jitter-77' };
const ROLE = 'Okta_Role';

let demo;
let browser;
let page;
let appURL;

before(async () => {
  [demo, browser] = await Promise.all([Demo.start(), launch()]);
  for (const p of [PIA, RAY]) {
    await demo.api('POST', '/api/v1/users?activate=true', {
      profile: { login: p.login, email: p.login, firstName: p.firstName, lastName: p.lastName },
      credentials: { password: { value: p.password } },
    });
  }
  page = await browser.context.newPage();
  appURL = `${demo.info.gatehouse_url}/admin/apps/${demo.info.app_id}`;
  await page.goto(demo.info.sign_in_url);
  await page.getByLabel('Username').fill(demo.info.admin.email);
  await page.getByLabel('Password').fill(demo.info.admin.password);
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

const provNav = () => page.getByRole('navigation', { name: 'Provisioning' });
const flash = async () => (await page.getByRole('status').first().innerText()).trim();

/** Reloads the status page until the task counts match re (or fails). */
async function waitCounts(re) {
  for (let i = 0; ; i++) {
    const text = await page.locator('#task-counts').innerText();
    if (re.test(text)) return text;
    assert.ok(i < 150, `task counts: ${text}`);
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
  }
}

test('attribute mappings: a bad expression is refused beside its row; the preview shows what a person would get; saved', async () => {
  await page.goto(`${appURL}/provisioning/to-app`);
  await checkPage(page, 'prov-01-to-app');
  await page.getByRole('button', { name: 'Edit Mappings' }).click();
  await page.getByLabel('Email', { exact: true }).fill('user.email');
  await page.getByLabel('Email: apply on', { exact: true }).selectOption({ label: 'Create only' });
  await page.getByLabel('Mobile', { exact: true }).fill('user.mobilePhone +');
  await page.getByLabel('Preview for person').fill(demo.info.agent.username);
  await page.getByRole('button', { name: 'Save Mappings' }).click();
  await page.getByRole('alert').first().waitFor();
  assert.match(await fieldError(page, 'Mobile'), /expression ends too early at 1:19/);
  await checkPage(page, 'prov-02-mapping-error');
  // The other entries survive the refused save.
  assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), 'user.email');

  // Preview the typed mappings for the agent, without saving.
  await page.getByLabel('Mobile', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  const preview = page.getByRole('region', { name: 'Preview' });
  await preview.waitFor();
  const text = await preview.innerText();
  assert.match(text, /Gatehouse would send this user to the application/);
  assert.match(text, new RegExp(`Email\\s+${demo.info.agent.username.replace(/\./g, '\\.')}`));
  assert.match(text, /Security profiles\s+Agent\s+app default/);
  await checkPage(page, 'prov-03-preview');
  let saved = await demo.api('GET', `/api/v1/apps/${demo.info.app_id}/provisioning`);
  assert.equal(saved.mappings.Email, undefined, 'the preview saved the mappings');

  await page.getByRole('button', { name: 'Save Mappings' }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'mappings');
  assert.equal(await flash(), 'The attribute mappings were saved.');
  const rows = await page.getByRole('region', { name: 'Attribute Mappings' }).locator('tbody tr').allInnerTexts();
  assert.ok(rows.includes('Email\tuser.email\tCreate only'), `Attribute Mappings: ${rows}`);
  const mapping = await demo.api('GET', `/api/v1/mappings/prm${demo.info.app_id.slice(3)}`);
  assert.deepEqual(mapping.properties.Email, { expression: 'user.email', pushStatus: 'DONT_PUSH' });
  const shot = await checkPage(page, 'prov-04-mappings-saved');
  await publishScreenshot(shot, 'admin-provisioning-mappings');
});

test('Connect profile pickers on an assignment; deprovisioning strips security profiles to a fallback', async () => {
  // Defaults and deprovisioning: strip needs a fallback profile.
  await page.goto(`${appURL}/provisioning/to-app`);
  await page.getByRole('button', { name: 'Edit Defaults' }).click();
  const offered = await page.getByLabel('Security profiles').locator('option').allInnerTexts();
  assert.deepEqual(offered.sort(), ['Admin', 'Agent', 'CallCenterManager', 'QualityAnalyst']);
  await page.getByLabel('When Deactivate Users removes a person').selectOption({ label: 'Only strip its security profiles' });
  await page.getByRole('button', { name: 'Save Defaults' }).click();
  await page.getByRole('alert').first().waitFor();
  assert.match(await fieldError(page, 'Fallback security profile'), /Choose the security profile/);
  await checkPage(page, 'prov-05-defaults-error');
  await page.getByLabel('Fallback security profile').selectOption({ label: 'QualityAnalyst' });
  await page.getByRole('button', { name: 'Save Defaults' }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'provisioning');
  assert.match(await page.locator('#defaults').innerText(), /Only strip the security profiles \(keeps QualityAnalyst\)/);

  // Directory → People → Pia → Assign Applications → Assign: Role and the
  // Connect profiles, chosen from the instance's.
  await page.goto(`${demo.info.gatehouse_url}/admin/people`);
  await page.getByRole('link', { name: `${PIA.firstName} ${PIA.lastName}` }).click();
  await page.getByRole('link', { name: 'Assign Applications' }).click();
  const row = page.locator('.pick-list li').filter({ has: page.getByRole('link', { name: 'Amazon Connect', exact: true }) });
  await row.getByRole('button', { name: 'Assign' }).click();
  await page.getByRole('button', { name: 'Save and Go Back' }).waitFor();
  await page.getByLabel('Role', { exact: true }).selectOption({ label: ROLE });
  await page.getByLabel('SAML User Roles').selectOption({ label: ROLE });
  const sec = await page.getByLabel('Connect Security Profiles').locator('option').allInnerTexts();
  assert.deepEqual(sec.sort(), ['Admin', 'Agent', 'CallCenterManager', 'QualityAnalyst']);
  await page.getByLabel('Connect Security Profiles').selectOption([{ label: 'Admin' }, { label: 'CallCenterManager' }]);
  await page.getByLabel('Connect Routing Profile').selectOption({ label: 'Basic Routing Profile' });
  await checkPage(page, 'prov-06-assign-profiles');
  await page.getByRole('button', { name: 'Save and Go Back' }).click();
  await page.getByRole('link', { name: 'Done' }).waitFor();
  const pia = await demo.api('GET', `/api/v1/users/${PIA.login}`);
  const asg = await demo.api('GET', `/api/v1/apps/${demo.info.app_id}/users/${pia.id}`);
  assert.deepEqual(asg.profile.connectSecurityProfiles.sort(), ['Admin', 'CallCenterManager']);
  assert.equal(asg.profile.connectRoutingProfile, 'Basic Routing Profile');

  // The preview and the status page show what reached Connect.
  await page.goto(`${appURL}/provisioning/to-app?preview=${encodeURIComponent(PIA.login)}#preview`);
  assert.match(await page.getByRole('region', { name: 'Preview' }).innerText(), /Security profiles\s+Admin, CallCenterManager\s+assignment/);
  await page.goto(`${appURL}/provisioning/status`);
  await waitCounts(/^0 pending, 0 running, 0 failed/);
  const tasks = page.getByRole('region', { name: 'Tasks' });
  assert.match(await tasks.locator('tbody tr').filter({ hasText: PIA.login }).first().innerText(), /succeeded[\s\S]*created/);
  await checkPage(page, 'prov-07-status');

  // Unassigned: the Connect user is kept with only the fallback profile.
  await page.goto(`${appURL}/assignments`);
  page.once('dialog', (d) => d.accept());
  await page.locator('tbody tr').filter({ hasText: PIA.login }).getByRole('button', { name: 'Remove' }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'unassigned');
  await page.goto(`${appURL}/provisioning/status`);
  await waitCounts(/^0 pending, 0 running, 0 failed/);
  assert.match(await tasks.locator('tbody tr').filter({ hasText: PIA.login }).first().innerText(), /succeeded[\s\S]*stripped/);
});

test('a task AWS refuses shows AWS error on the status page; Retry after the fix succeeds; Push Now shows its differences first', async () => {
  // A wrong secret key is saved (as after a key rotation in AWS).
  await page.goto(`${appURL}/provisioning`);
  await page.getByLabel('Secret Key').fill('wrong' + demo.info.sandbox.secret_access_key.slice(5));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'provisioning');
  const ray = await demo.api('GET', `/api/v1/users/${RAY.login}`);
  await demo.api('POST', `/api/v1/apps/${demo.info.app_id}/users`, {
    id: ray.id, scope: 'USER', credentials: { userName: RAY.login }, profile: { role: ROLE, samlRoles: [ROLE] },
  });
  await page.goto(`${appURL}/provisioning/status`);
  await waitCounts(/^0 pending, 0 running, 1 failed/);
  await page.getByLabel('Show').selectOption({ label: 'Failed' });
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('state') === 'failed');
  const failed = page.getByRole('region', { name: 'Tasks' }).locator('tbody tr').filter({ hasText: RAY.login });
  assert.match(await failed.innerText(), /failed[\s\S]*InvalidSignatureException: The request signature we calculated does not match/);
  await checkPage(page, 'prov-08-failed-task');

  // The right key again, then Retry on that task.
  await provNav().getByRole('link', { name: 'Integration' }).click();
  await page.getByLabel('Secret Key').fill(demo.info.sandbox.secret_access_key);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'provisioning');
  await provNav().getByRole('link', { name: 'Status' }).click();
  await page.getByRole('region', { name: 'Tasks' }).locator('tbody tr').filter({ hasText: RAY.login }).filter({ hasText: 'failed' })
    .getByRole('button', { name: 'Retry' }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'retried1');
  assert.equal(await flash(), 'The task was queued again.');
  await waitCounts(/^0 pending, 0 running, 0 failed/);
  assert.match(await page.getByRole('region', { name: 'Tasks' }).locator('tbody tr').filter({ hasText: RAY.login }).first().innerText(), /succeeded[\s\S]*created/);

  // Push Now compares first and changes nothing until applied.
  await page.getByRole('button', { name: 'Push Now' }).click();
  await page.getByRole('heading', { name: 'Push Now: differences' }).waitFor();
  const diffs = await page.locator('#push').innerText();
  // Pia's stripped Connect user is in Connect but no longer assigned: reported only.
  assert.match(diffs, /pia\.picker@example\.com[\s\S]*in Amazon Connect but not assigned in Gatehouse[\s\S]*Reported only/);
  await checkPage(page, 'prov-09-push-preview');
  await page.getByRole('button', { name: 'Apply Changes' }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'pushed');
  await waitCounts(/^0 pending, 0 running, 0 failed/);
  await checkPage(page, 'prov-10-pushed');
});

test('Sign On: single logout needs its URL and the signature certificate (beside the fields); uploaded certificates are stored', async () => {
  const app = await demo.api('POST', '/api/v1/apps', { label: 'Intranet', signOnMode: 'SAML_2_0', settings: { signOn: signOn() } });
  await page.goto(`${demo.info.gatehouse_url}/admin/apps/${app.id}/signon`);
  await page.getByRole('heading', { name: 'Encryption, Single Logout and Signed Requests' }).waitFor();
  await page.getByLabel('Enable Single Logout').check();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('alert').first().waitFor();
  assert.match(await fieldError(page, 'Single Logout URL'), /blank/);
  // Logout requests must be signed (SAML Profiles 4.4.4.1), so single
  // logout needs the service provider's signature certificate.
  assert.match(await fieldError(page, 'Enable Single Logout'), /logout requests must be signed/);
  await checkPage(page, 'prov-11-slo-error');
  await page.getByLabel('Single Logout URL').fill('https://sp.example.test/slo');
  const signing = await makeSPKeyPair('intranet-signing.example.test');
  await page.getByLabel('Upload Signature Certificate').setInputFiles({ name: 'intranet-signing.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(signing.cert) });
  await page.getByLabel('Assertion Encryption').check();
  await page.getByLabel('Encryption Algorithm').selectOption('AES128_GCM');
  const { cert } = await makeSPKeyPair('intranet.example.test');
  await page.getByLabel('Upload Encryption Certificate').setInputFiles({ name: 'intranet.pem', mimeType: 'application/x-pem-file', buffer: Buffer.from(cert) });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'saved');
  await page.getByText('Stored encryption certificate: CN=intranet.example.test').waitFor();
  const saved = await demo.api('GET', `/api/v1/apps/${app.id}`);
  assert.equal(saved.settings.signOn.slo.enabled, true);
  assert.equal(saved.settings.signOn.slo.logoutUrl, 'https://sp.example.test/slo');
  assert.deepEqual(saved.settings.signOn.spCertificate.x5c, [signing.x5c]);
  assert.equal(saved.settings.signOn.assertionEncryption.enabled, true);
  assert.equal(saved.settings.signOn.assertionEncryption.encryptionAlgorithm, 'AES128_GCM');
  assert.equal(saved.settings.signOn.assertionEncryption.x5c.length, 1);
  await checkPage(page, 'prov-12-signon-saved');
});

test('People: the status filter lists only people in that status', async () => {
  await demo.api('POST', `/api/v1/users/${RAY.login}/lifecycle/suspend`);
  await page.goto(`${demo.info.gatehouse_url}/admin/people`);
  await page.getByLabel('Status').selectOption({ label: 'Suspended' });
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL((u) => u.searchParams.get('status') === 'SUSPENDED');
  const people = await page.locator('tbody tr').allInnerTexts();
  assert.equal(people.length, 1, `suspended people: ${people}`);
  assert.match(people[0], /Ray Retry[\s\S]*SUSPENDED/);
  await checkPage(page, 'prov-13-people-suspended');
  await page.getByLabel(labelled('Search people')).fill('pia');
  await page.getByLabel('Status').selectOption({ label: 'Active' });
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL((u) => u.searchParams.get('status') === 'ACTIVE' && u.searchParams.get('q') === 'pia');
  assert.match((await page.locator('tbody tr').allInnerTexts()).join('\n'), /Pia Picker/);
});
