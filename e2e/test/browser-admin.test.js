// The administrator's half of the Amazon Connect story (steps 2–10),
// clicked through in Debian's Chromium (playwright-core) by the labels of
// the Okta walkthrough, against `gatehouse demo`'s AWS sandbox. The demo already has one Connect app; the administrator adds a
// second one, "Contact Center", from the catalog and assigns it to a new
// person, who then signs in and lands on the sandbox's Connect agent page:
// the proof that every setting entered in the console is right.
//
// Every Gatehouse page reached is checked with axe-core (no serious or
// critical violations) and for script errors and CSP refusals, and saved
// as a screenshot under e2e/out/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Demo } from '../lib/demo.js';
import { launch } from '../lib/chromium.js';
import { checkPage, fieldError, publishScreenshot, OUT } from '../lib/pages.js';
import { sandboxIAM, createSAMLProvider, createConnectRole } from '../lib/sandboxiam.js';

const PROVIDER = 'Gatehouse_Contact_Center';
const ROLE = 'Contact_Center_Agent';
const PERSON = { login: 'jo.jones@example.com', firstName: 'Jo', lastName: 'Jones', password: 'Headset-Queue-77' };
const LABEL = 'Contact Center';

let demo;
let browser;
let page;

before(async () => {
  [demo, browser] = await Promise.all([Demo.start(), launch()]);
  // The person the administrator assigns in step 10 (HR created them).
  await demo.api('POST', '/api/v1/users?activate=true', {
    profile: { login: PERSON.login, email: PERSON.login, firstName: PERSON.firstName, lastName: PERSON.lastName },
    credentials: { password: { value: PERSON.password } },
  });
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

const adminNav = () => page.getByRole('navigation', { name: 'Admin' });
const appTabs = () => page.getByRole('navigation', { name: 'Application settings' });

async function signIn(username, password) {
  await page.goto(demo.info.sign_in_url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
  await page.waitForURL((u) => u.pathname !== '/login');
}

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
}

/** The text of the page's status message (role=status). */
async function flash() {
  return (await page.getByRole('status').first().innerText()).trim();
}

test('administrator adds Amazon Connect and assigns a person by the walkthrough labels; the person signs in to Connect', async () => {
  const { info } = demo;
  const sb = info.sandbox;
  const federate = `https://${sb.region}.console.aws.amazon.com/connect/federate/${sb.connect_instance_id}`;

  // Step 2: sign in to the admin console → Applications → Browse App
  // Catalog → search "Amazon" → Add next to Amazon Connect.
  await signIn(info.admin.email, info.admin.password);
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.waitForURL((u) => u.pathname === '/admin');
  await checkPage(page, 'admin-01-dashboard');
  await adminNav().getByRole('link', { name: 'Applications' }).click();
  await page.waitForURL((u) => u.pathname === '/admin/apps');
  await checkPage(page, 'admin-02-applications');
  await page.getByRole('link', { name: 'Browse App Catalog' }).click();
  await page.getByLabel('Search the catalog').fill('Amazon');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL((u) => u.searchParams.get('q') === 'Amazon');
  const entries = await page.locator('.catalog-list h2').allInnerTexts();
  assert.ok(entries.includes('Amazon Connect'), `catalog search "Amazon": ${entries}`);
  assert.ok(!entries.includes('Custom SAML 2.0'), `catalog search "Amazon" also lists ${entries}`);
  await checkPage(page, 'admin-03-catalog');
  const connectEntry = page.locator('.catalog-list li').filter({ has: page.getByRole('heading', { name: 'Amazon Connect' }) });
  await connectEntry.getByRole('button', { name: 'Add' }).click();

  // Step 3: General Settings: Application Label (and the Connect instance).
  await page.getByRole('heading', { name: 'General Settings' }).waitFor();
  await page.getByLabel('Application Label').fill(LABEL);
  // "Login URL" comes filled with the Connect console's address.
  assert.match(await page.getByLabel('Login URL').inputValue(), /^https:\/\/.*console\.aws\.amazon\.com/);
  await page.getByLabel('Region').fill(sb.region);
  await page.getByLabel('Instance ID').fill(sb.connect_instance_id);
  await checkPage(page, 'admin-04-add-app');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('heading', { level: 1, name: LABEL }).waitFor();
  const appID = new URL(page.url()).pathname.split('/')[3];
  assert.match(appID, /^0oa/);
  await checkPage(page, 'admin-05-general');

  // Step 4: Sign On: the Default Relay State is the Connect federation URL;
  // the Identity Provider metadata link downloads the XML.
  await appTabs().getByRole('link', { name: 'Sign On' }).click();
  await page.getByRole('heading', { name: 'Advanced Sign-On Settings' }).waitFor();
  assert.equal(await page.getByLabel('Default Relay State').inputValue(), federate);
  await checkPage(page, 'admin-06-sign-on');
  const signOnShot = path.join(OUT, 'admin-06-sign-on-top.png');
  await page.screenshot({ path: signOnShot });
  await publishScreenshot(signOnShot, 'admin-sign-on');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Identity Provider metadata' }).click(),
  ]);
  const metadata = await readFile(await download.path(), 'utf8');
  assert.match(metadata, /^<\?xml|<(md:)?EntityDescriptor/);
  assert.match(metadata, /IDPSSODescriptor/);
  assert.match(metadata, /X509Certificate/);

  // Steps 5–6 in AWS IAM (the sandbox): upload the metadata as a SAML
  // provider, create the role that trusts it.
  const iam = sandboxIAM(sb);
  const providerArn = await createSAMLProvider(iam, PROVIDER, metadata);
  assert.equal(providerArn, `arn:aws:iam::${sb.account_id}:saml-provider/${PROVIDER}`);
  await createConnectRole(iam, sb, ROLE, providerArn);

  // Step 7: Advanced Sign-On Settings. A mistyped ARN and ACS URL are
  // refused, each with its message beside its field; then the real ones.
  await page.getByLabel('Identity Provider ARN').fill(`arn:aws:iam::${sb.account_id}:role/${ROLE}`);
  await page.getByLabel('ACS URL (optional)').fill('signin.aws.amazon.com/saml');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('alert').first().waitFor();
  const arnError = await fieldError(page, 'Identity Provider ARN');
  assert.match(arnError, /saml-provider/i, arnError);
  const acsError = await fieldError(page, 'ACS URL (optional)');
  assert.match(acsError, /URL/i, acsError);
  await checkPage(page, 'admin-07-sign-on-errors');
  // The other entries survive the refused save.
  assert.equal(await page.getByLabel('Default Relay State').inputValue(), federate);
  await page.getByLabel('Identity Provider ARN').fill(providerArn);
  // The sandbox's AWS sign-in stands in for https://signin.aws.amazon.com/saml.
  await page.getByLabel('ACS URL (optional)').fill(`${sb.url}/saml`);
  await page.getByRole('button', { name: 'Done' }).click();
  await page.waitForURL((u) => !u.pathname.endsWith('/signon'));
  let app = await demo.api('GET', `/api/v1/apps/${appID}`);
  assert.equal(app.settings.app.identityProviderArn, providerArn);
  assert.equal(app.settings.signOn.defaultRelayState, federate);

  // Step 8: Provisioning → Configure API Integration → Enable API
  // Integration, Access Key, Secret Key → Test API Credentials: a wrong
  // secret gets AWS's own error, the right one succeeds → Save.
  await appTabs().getByRole('link', { name: 'Provisioning' }).click();
  await checkPage(page, 'admin-08-provisioning');
  await page.getByRole('button', { name: 'Configure API Integration' }).click();
  await page.getByLabel('Enable API Integration').check();
  await page.getByLabel('Access Key').fill(sb.access_key_id);
  await page.getByLabel('Secret Key').fill('wrong' + sb.secret_access_key.slice(5));
  await page.getByRole('button', { name: 'Test API Credentials' }).click();
  const refused = page.getByRole('alert').first();
  await refused.waitFor();
  const refusal = await refused.innerText();
  assert.match(refusal, /SignatureDoesNotMatch|signature we calculated does not match/i, refusal);
  await checkPage(page, 'admin-09-credentials-refused');
  await page.getByLabel('Secret Key').fill(sb.secret_access_key);
  await page.getByRole('button', { name: 'Test API Credentials' }).click();
  await page.getByRole('status').first().waitFor();
  assert.equal(await page.getByRole('alert').count(), 0);
  assert.match(await flash(), new RegExp(`The credentials work: AWS account ${sb.account_id}`));
  await checkPage(page, 'admin-10-credentials-ok');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.has('ok'));
  assert.equal(await flash(), 'Provisioning settings were saved.');
  assert.ok(await page.getByLabel('Enable API Integration').isChecked());
  await checkPage(page, 'admin-11-integration-saved');

  // The access key lets Gatehouse read the IAM roles that trust the
  // provider, which feed the "Role" and "SAML User Roles" choices.
  await page.getByRole('button', { name: 'Refresh Application Data' }).click();
  await page.getByText(`Imported IAM roles: ${ROLE}`).waitFor();

  // Step 9: To App → Edit → Create Users → Save; the Attribute Mappings.
  await page.getByRole('navigation', { name: 'Provisioning' }).getByRole('link', { name: 'To App' }).click();
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  await page.getByLabel('Create Users').check();
  await page.getByLabel('Update User Attributes').check();
  await checkPage(page, 'admin-12-to-app-edit');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.has('ok'));
  const features = page.locator('dl.props').first();
  assert.match(await features.innerText(), /Create Users\s+Enabled/);
  await page.getByRole('heading', { name: 'Attribute Mappings' }).waitFor();
  const mappings = await page.locator('section', { has: page.getByRole('heading', { name: 'Attribute Mappings' }) }).locator('tbody tr').allInnerTexts();
  assert.ok(mappings.includes('FirstName\tuser.firstName\tCreate and update'), `Attribute Mappings: ${mappings}`);
  assert.ok(mappings.includes('LastName\tuser.lastName\tCreate and update'), `Attribute Mappings: ${mappings}`);
  await checkPage(page, 'admin-13-to-app');

  // Step 10: Directory → People → the person → Assign Applications →
  // Assign next to the app → Role and SAML User Roles → Save and Go Back
  // → Done.
  await adminNav().getByRole('link', { name: 'Directory' }).click();
  await adminNav().getByRole('link', { name: 'People' }).click();
  await page.waitForURL((u) => u.pathname === '/admin/people');
  await checkPage(page, 'admin-14-people');
  await page.getByRole('link', { name: `${PERSON.firstName} ${PERSON.lastName}` }).click();
  await page.getByRole('heading', { level: 1, name: `${PERSON.firstName} ${PERSON.lastName}` }).waitFor();
  await checkPage(page, 'admin-15-person');
  await page.getByRole('link', { name: 'Assign Applications' }).click();
  await page.getByRole('heading', { level: 1 }).waitFor();
  await checkPage(page, 'admin-16-assign-applications');
  const row = page.locator('.pick-list li').filter({ has: page.getByRole('link', { name: LABEL, exact: true }) });
  await row.getByRole('button', { name: 'Assign' }).click();
  await page.getByRole('button', { name: 'Save and Go Back' }).waitFor();
  assert.equal(await page.getByLabel('User Name').inputValue(), PERSON.login);
  await page.getByLabel('Role', { exact: true }).selectOption({ label: ROLE });
  await page.getByLabel('SAML User Roles').selectOption({ label: ROLE });
  await checkPage(page, 'admin-17-assign-form');
  await page.getByRole('button', { name: 'Save and Go Back' }).click();
  await page.getByRole('link', { name: 'Done' }).waitFor();
  const assigned = page.locator('.pick-list li').filter({ has: page.getByRole('link', { name: LABEL, exact: true }) });
  await assigned.getByText('Assigned').waitFor();
  await checkPage(page, 'admin-18-assigned');
  await page.getByRole('link', { name: 'Done' }).click();
  await page.getByRole('heading', { level: 1, name: `${PERSON.firstName} ${PERSON.lastName}` }).waitFor();
  const apps = page.locator('section', { has: page.getByRole('heading', { name: 'Applications' }) });
  await apps.getByRole('link', { name: LABEL }).waitFor();
  assert.match(await apps.locator('tbody').innerText(), new RegExp(`${LABEL}\\s+${PERSON.login.replace(/\./g, '\\.')}`));
  const assignment = await demo.api('GET', `/api/v1/apps/${appID}/users/${(await demo.api('GET', `/api/v1/users/${PERSON.login}`)).id}`);
  assert.equal(assignment.profile.role, ROLE);
  assert.deepEqual(assignment.profile.samlRoles, [ROLE]);

  // Gatehouse creates the person's Amazon Connect user (Create Users): the
  // Provisioning tab shows nothing pending and nothing failed.
  await page.getByRole('link', { name: LABEL }).first().click();
  await appTabs().getByRole('link', { name: 'Provisioning' }).click();
  await page.getByRole('navigation', { name: 'Provisioning' }).getByRole('link', { name: 'Status' }).click();
  const tasks = page.locator('#task-counts');
  for (let i = 0; ; i++) {
    const text = await tasks.innerText();
    if (/^0 pending, 0 running, 0 failed/.test(text)) break;
    assert.doesNotMatch(text, /[1-9]\d* failed/, text);
    assert.ok(i < 100, `provisioning still running: ${text}`);
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
  }
  await signOut();

  // Steps 11–12: the person signs in, clicks the new tile, lands in Connect.
  await signIn(PERSON.login, PERSON.password);
  const tile = page.getByRole('link', { name: LABEL });
  const [tab] = await Promise.all([page.waitForEvent('popup'), tile.click()]);
  await tab.waitForURL(`${sb.url}/connect/federate/${sb.connect_instance_id}`, { timeout: 15_000 });
  assert.equal(await tab.locator('#username').innerText(), PERSON.login);
  // The Connect user Gatehouse created carries the mapped names.
  assert.match(await tab.locator('#ccp').innerText(), new RegExp(`\\(${PERSON.firstName} ${PERSON.lastName}\\)`));
  await tab.close();
  await signOut();
});
