// The admin console beyond the story, in Debian's Chromium (playwright-core)
// against `gatehouse demo`: a read-only administrator sees every page
// without a form and is refused on forged POSTs; the console pages the
// story (browser-admin.test.js) does not reach; confirmation before
// destructive actions; an API token shown once; the main pages on a phone.
//
// Every Gatehouse page reached is checked with axe-core (no serious or
// critical violations) and for script errors and CSP refusals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Demo } from '../lib/demo.js';
import { launch } from '../lib/chromium.js';
import { checkPage, fieldError, labelled } from '../lib/pages.js';
import { signOn } from '../lib/fixtures.js';

const READER = { login: 'rita.reader@example.com', firstName: 'Rita', lastName: 'Reader', password: 'Audit-Trail-2026' };

let demo;
let browser;
let page;

before(async () => {
  [demo, browser] = await Promise.all([Demo.start(), launch()]);
  await demo.api('POST', '/api/v1/users?activate=true', {
    profile: { login: READER.login, email: READER.login, firstName: READER.firstName, lastName: READER.lastName },
    credentials: { password: { value: READER.password } },
  });
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

// A group rule and an event hook, made through the API, whose pages the
// sweeps below visit (the hook is never verified, so nothing is sent).
let extras;
async function sweepExtras() {
  if (!extras) {
    const group = await demo.api('POST', '/api/v1/groups', { profile: { name: 'Contractors', description: 'Filled by a rule' } });
    const rule = await demo.api('POST', '/api/v1/groups/rules', {
      type: 'group_rule', name: 'Contractors by type',
      conditions: { expression: { value: 'user.userType == "Contractor"', type: 'urn:okta:expression:1.0' } },
      actions: { assignUserToGroups: { groupIds: [group.id] } },
    });
    const hook = await demo.api('POST', '/api/v1/eventHooks', {
      name: 'SIEM', events: { type: 'EVENT_TYPE', items: ['user.lifecycle.create'] },
      channel: { type: 'HTTP', version: '1.0.0', config: { uri: 'https://siem.example.test/okta', headers: [],
        authScheme: { type: 'HEADER', key: 'Authorization', value: 'Bearer never-shown' } } },
    });
    assert.ok(rule.id && hook.id, 'fixtures for the sweeps');
    extras = { rule: rule.id, hook: hook.id };
  }
  return extras;
}

const adminNav = () => page.getByRole('navigation', { name: 'Admin' });

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

test('a read-only administrator sees the console without any form and every change is refused', async () => {
  const { info } = demo;
  const appID = info.app_id;

  // A super administrator grants the role: Security → Administrators →
  // Grant a role. A mistyped username is refused beside its field.
  await signIn(info.admin.email, info.admin.password);
  await page.goto(`${info.gatehouse_url}/admin`);
  await adminNav().getByRole('link', { name: 'Administrators' }).click();
  await page.getByRole('heading', { name: 'Grant a role' }).waitFor();
  await page.getByLabel(labelled('Username')).fill('rita.reader@example.org');
  await page.getByLabel('Role', { exact: true }).selectOption('READ_ONLY_ADMIN');
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.getByRole('alert').first().waitFor();
  assert.match(await fieldError(page, 'Username'), /No person has the username/);
  await checkPage(page, 'admin-20-grant-error');
  await page.getByLabel(labelled('Username')).fill(READER.login);
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.waitForURL((u) => u.searchParams.get('lookup') === READER.login);
  await page.getByText('READ_ONLY_ADMIN').first().waitFor();
  await checkPage(page, 'admin-21-administrators');
  await signOut();

  await signIn(READER.login, READER.password);
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.waitForURL((u) => u.pathname === '/admin');
  assert.match(await adminNav().innerText(), /read only/);

  const reader = await demo.api('GET', `/api/v1/users/${READER.login}`);
  const agent = await demo.api('GET', `/api/v1/users/${info.agent.username}`);
  const { rule, hook } = await sweepExtras();
  const pages = [
    ['/admin', 'dashboard'],
    ['/admin/people', 'people'],
    [`/admin/people/${agent.id}`, 'person'],
    ['/admin/people/new', 'person-new'],
    ['/admin/groups', 'groups'],
    ['/admin/profile-editor', 'profile-editor'],
    ['/admin/apps', 'apps'],
    ['/admin/apps/catalog?q=Amazon', 'catalog'],
    [`/admin/apps/${appID}`, 'app-general'],
    [`/admin/apps/${appID}/signon`, 'app-sign-on'],
    [`/admin/apps/${appID}/provisioning`, 'app-provisioning'],
    [`/admin/apps/${appID}/provisioning/to-app`, 'app-to-app'],
    [`/admin/apps/${appID}/assignments`, 'app-assignments'],
    [`/admin/people/${agent.id}/assign`, 'assign-applications'],
    ['/admin/reports/system-log', 'system-log'],
    ['/admin/security/api-tokens', 'api-tokens'],
    ['/admin/security/administrators', 'administrators'],
    ['/admin/group-rules', 'group-rules'],
    [`/admin/group-rules/${rule}`, 'group-rule'],
    ['/admin/workflow/event-hooks', 'event-hooks'],
    [`/admin/workflow/event-hooks/${hook}`, 'event-hook'],
  ];
  for (const [path, name] of pages) {
    const resp = await page.goto(info.gatehouse_url + path);
    assert.ok(resp.status() === 200 || resp.status() === 403, `${path}: ${resp.status()}`);
    // The only form that posts is "Sign out"; outside search and filter
    // forms (GET), no input can be edited.
    const posts = await page.locator('form[method="post"]').evaluateAll((fs) => fs.map((f) => f.getAttribute('action')));
    assert.deepEqual(posts, ['/logout'], `${path} offers forms to a read-only administrator`);
    const editable = await page.locator('main input:not([type=hidden]), main textarea, main select')
      .evaluateAll((els) => els.filter((e) => !e.disabled && !e.closest('fieldset[disabled]') && e.closest('form')?.method !== 'get').map((e) => e.name));
    assert.deepEqual(editable, [], `${path} has editable inputs`);
    // Nor a button or button-styled link that would lead to a change.
    const actions = await page.locator('main button, main a.button').evaluateAll((els) => els.map((e) => e.textContent.trim()));
    const changes = ['Save', 'Add', 'Add Person', 'Add Application', 'Assign Applications', 'Assign to People', 'Assign to Groups',
      'Assign', 'Edit', 'Configure API Integration', 'Grant', 'Revoke', 'Create Token', 'Deactivate', 'Activate', 'Delete', 'Generate new certificate',
      'Add Rule', 'Delete rule', 'Create Event Hook', 'Verify', 'Delete event hook'];
    assert.deepEqual(actions.filter((a) => changes.includes(a)), [], `${path} offers changes to a read-only administrator`);
    await checkPage(page, `readonly-${name}`, { screenshot: name === 'app-sign-on' });
  }

  // A forged POST with the reader's own valid CSRF token is refused, and
  // nothing changes.
  const csrf = await page.locator('form[action="/logout"] input[name=csrf]').inputValue();
  const attempts = [
    [`/admin/apps/${appID}/general`, { label: 'Renamed by a reader' }],
    [`/admin/apps/${appID}/lifecycle/deactivate`, {}],
    [`/admin/people/${agent.id}/lifecycle/suspend`, {}],
    ['/admin/security/administrators/grant', { username: READER.login, role: 'SUPER_ADMIN' }],
    ['/admin/security/api-tokens', { name: 'reader token', role: 'SUPER_ADMIN' }],
    ['/admin/group-rules', { name: 'reader rule', expression: 'true', groups: 'Contractors' }],
    [`/admin/group-rules/${rule}/lifecycle/activate`, {}],
    ['/admin/workflow/event-hooks', { name: 'reader hook', uri: 'https://reader.example.test/', events: 'user.lifecycle.create' }],
    [`/admin/workflow/event-hooks/${hook}/lifecycle/deactivate`, {}],
    [`/admin/workflow/event-hooks/${hook}/verify`, {}],
  ];
  for (const [path, form] of attempts) {
    const r = await page.request.post(info.gatehouse_url + path, {
      form: { csrf, ...form },
      headers: { Origin: info.gatehouse_url },
      maxRedirects: 0,
    });
    assert.equal(r.status(), 403, `POST ${path} by a read-only administrator: ${r.status()}`);
  }
  const app = await demo.api('GET', `/api/v1/apps/${appID}`);
  assert.equal(app.label, 'Amazon Connect');
  assert.equal(app.status, 'ACTIVE');
  assert.equal((await demo.api('GET', `/api/v1/users/${agent.id}`)).status, 'ACTIVE');
  const tokens = await demo.api('GET', '/api/v1/api-tokens');
  assert.ok(!tokens.some((t) => t.name === 'reader token'), 'the reader created a token');
  assert.equal((await demo.api('GET', `/api/v1/groups/rules/${rule}`)).status, 'INACTIVE');
  assert.ok(!(await demo.api('GET', '/api/v1/groups/rules')).some((r) => r.name === 'reader rule'), 'the reader created a rule');
  const hooks = await demo.api('GET', '/api/v1/eventHooks');
  assert.deepEqual(hooks.map((h) => [h.name, h.status]), [['SIEM', 'ACTIVE']], 'the reader changed the event hooks');
  const roles = await page.request.get(`${info.gatehouse_url}/admin/security/administrators?lookup=${encodeURIComponent(READER.login)}`);
  assert.doesNotMatch(await roles.text(), /SUPER_ADMIN<\/li>|<li>SUPER_ADMIN/);
  assert.ok(reader.id);
  await signOut();
});

// The super administrator's session and the ids the remaining checks use
// (the demo's agent and app, and a group of agents).
let sweep;
async function sweepIDs() {
  if (!sweep) {
    const { info } = demo;
    const agent = await demo.api('GET', `/api/v1/users/${info.agent.username}`);
    const group = await demo.api('POST', '/api/v1/groups', { profile: { name: 'Contact Center Agents', description: 'Everyone answering calls' } });
    await demo.api('PUT', `/api/v1/groups/${group.id}/users/${agent.id}`);
    sweep = { agent: agent.id, group: group.id, app: info.app_id };
    // Whoever an earlier test left signed in, continue as the super admin.
    await browser.context.clearCookies();
    await signIn(info.admin.email, info.admin.password);
  }
  return sweep;
}

test('every other console page passes axe for a super administrator', async () => {
  const base = demo.url;
  const { agent, group, app } = await sweepIDs();
  const { rule, hook } = await sweepExtras();
  // The pages the tests above did not reach (each page is checked once).
  const pages = [
    ['/admin/people?q=agent', 'people-search'],
    ['/admin/people/new', 'person-new'],
    ['/admin/groups', 'groups'],
    [`/admin/groups/${group}`, 'group'],
    [`/admin/groups/${group}/assign`, 'group-assign'],
    [`/admin/groups/${group}/assign/${app}`, 'group-assign-app'],
    ['/admin/profile-editor', 'profile-editor'],
    ['/admin/apps/new?template=amazon_aws', 'app-new-aws'],
    ['/admin/apps/new?template=template_saml_2_0', 'app-new-saml'],
    [`/admin/apps/${app}/assignments`, 'app-assignments'],
    [`/admin/apps/${app}/assign/people`, 'app-assign-people'],
    [`/admin/apps/${app}/assign/people/${agent}`, 'app-assign-person'],
    [`/admin/apps/${app}/assign/groups`, 'app-assign-groups'],
    ['/admin/reports/system-log', 'system-log'],
    ['/admin/reports/system-log?outcome=SUCCESS', 'system-log-filtered'],
    ['/admin/security/api-tokens', 'api-tokens'],
    ['/admin/group-rules', 'group-rules'],
    [`/admin/group-rules/${rule}`, 'group-rule'],
    ['/admin/workflow/event-hooks', 'event-hooks'],
    [`/admin/workflow/event-hooks/${hook}`, 'event-hook'],
  ];
  const failed = [];
  for (const [path, name] of pages) {
    const resp = await page.goto(base + path);
    if (resp.status() !== 200) failed.push(`${path}: ${resp.status()}`);
    await checkPage(page, `page-${name}`, { screenshot: false });
  }
  assert.deepEqual(failed, []);
});

test('destructive actions ask for confirmation; cancelling changes nothing', async () => {
  const { agent, app } = await sweepIDs();
  await page.goto(`${demo.url}/admin/people/${agent}`);
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
  await page.getByRole('button', { name: 'Deactivate' }).click();
  assert.match(asked, /deactivate/i);
  assert.equal(new URL(page.url()).pathname, `/admin/people/${agent}`);
  assert.equal((await demo.api('GET', `/api/v1/users/${agent}`)).status, 'ACTIVE');

  await page.goto(`${demo.url}/admin/apps/${app}`);
  asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
  await page.getByRole('button', { name: 'Deactivate' }).click();
  assert.match(asked, /Deactivate Amazon Connect\?/);
  assert.equal((await demo.api('GET', `/api/v1/apps/${app}`)).status, 'ACTIVE');
});

test('an API token created in the console is shown once', async () => {
  await page.goto(`${demo.url}/admin/security/api-tokens`);
  await page.getByLabel(labelled('Token name')).fill('reporting');
  await page.getByRole('button', { name: 'Create Token' }).click();
  const value = await page.getByLabel('Token value').inputValue();
  assert.match(value, /^\S{20,}$/);
  await checkPage(page, 'page-api-token-created', { fullPage: false });
  // The value works with the API...
  const r = await fetch(`${demo.url}/api/v1/users?limit=1`, { headers: { Authorization: `SSWS ${value}`, Accept: 'application/json' } });
  assert.equal(r.status, 200);
  await r.arrayBuffer();
  // ...and is never shown again.
  await page.goto(`${demo.url}/admin/security/api-tokens`);
  assert.equal(await page.getByLabel('Token value').count(), 0);
  assert.ok(!(await page.content()).includes(value));
  assert.match(await page.locator('tbody').innerText(), /reporting/);
});

test('an event hook is created under Workflow → Event Hooks: errors beside the fields, CSRF required, the secret never shown', async () => {
  await sweepIDs();
  await page.goto(`${demo.url}/admin`);
  await adminNav().getByRole('link', { name: 'Event Hooks' }).click();
  await page.getByRole('heading', { name: 'Create Event Hook' }).waitFor();
  const fill = async (uri, secret, filter) => {
    await page.getByLabel(labelled('Name')).fill('Audit trail');
    await page.getByLabel(labelled('Endpoint URL')).fill(uri);
    await page.getByLabel(labelled('Authentication field')).fill('Authorization');
    await page.getByLabel(labelled('Authentication secret')).fill(secret);
    await page.getByLabel(labelled('Custom headers')).fill('X-Tenant: contact-center');
    await page.getByLabel(labelled('Event types')).selectOption(['user.lifecycle.create', 'group.user_membership.add']);
    await page.getByLabel(labelled('Filters (Okta Expression Language)')).fill(filter);
  };
  // Submitted with the keyboard: every problem beside its field.
  await fill('http://audit.example.test/hook', '', 'user.lifecycle.create: event.actor.type eq');
  await page.getByRole('button', { name: 'Create Event Hook' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('alert').first().waitFor();
  assert.match(await fieldError(page, 'Endpoint URL'), /must be https/);
  assert.match(await fieldError(page, 'Authentication secret'), /required/);
  assert.match(await fieldError(page, 'Filters (Okta Expression Language)'), /ends too early at 1:20/);
  await checkPage(page, 'page-event-hook-errors');

  // The same form without its CSRF token is refused and stores nothing.
  await fill('https://audit.example.test/hook', 'Bearer audit-s3cret', "user.lifecycle.create: event.actor.type eq 'User'");
  await page.locator('form[action="/admin/workflow/event-hooks"] input[name=csrf]').evaluate((el) => el.remove());
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/admin/workflow/event-hooks'),
    page.getByRole('button', { name: 'Create Event Hook' }).click(),
  ]);
  assert.equal(refused.status(), 403);
  assert.ok(!(await demo.api('GET', '/api/v1/eventHooks')).some((h) => h.name === 'Audit trail'), 'a form without CSRF created a hook');

  await page.goto(`${demo.url}/admin/workflow/event-hooks`);
  await fill('https://audit.example.test/hook', 'Bearer audit-s3cret', "user.lifecycle.create: event.actor.type eq 'User'");
  await page.getByRole('button', { name: 'Create Event Hook' }).click();
  await page.waitForURL((u) => /^\/admin\/workflow\/event-hooks\/who\w+$/.test(u.pathname));
  await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
  assert.match(await page.locator('main').innerText(), /Authorization: secret set/);
  assert.ok(!(await page.content()).includes('audit-s3cret'), 'the hook page shows the secret');
  await checkPage(page, 'page-event-hook-created');
  const id = new URL(page.url()).pathname.split('/').pop();
  const hook = await demo.api('GET', `/api/v1/eventHooks/${id}`);
  assert.equal(hook.verificationStatus, 'UNVERIFIED');
  assert.deepEqual(hook.events.filter.eventFilterMap, [{ event: 'user.lifecycle.create', condition: { version: null, expression: "event.actor.type eq 'User'" } }]);
  assert.equal(hook.channel.config.authScheme.value, undefined);

  // Deleting needs the hook inactive; "Deactivate" first.
  await page.getByRole('button', { name: 'Deactivate' }).click();
  await page.waitForURL((u) => u.searchParams.get('ok') === 'deactivated');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete event hook' }).click();
  await page.waitForURL((u) => u.pathname === '/admin/workflow/event-hooks' && u.searchParams.get('ok') === 'deleted');
  assert.ok(!(await demo.api('GET', '/api/v1/eventHooks')).some((h) => h.id === id));
});

test('the main pages fit a phone screen without sideways scrolling', async () => {
  await sweepIDs();
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    const wide = [];
    for (const path of ['/login', '/app/UserHome', '/admin', '/admin/people', '/admin/apps', '/admin/apps/catalog', '/admin/reports/system-log']) {
      await page.goto(demo.url + path);
      const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      if (scroll > client) wide.push(`${path}: ${scroll}px wide in a ${client}px window`);
    }
    assert.deepEqual(wide, []);
    await page.goto(`${demo.url}/admin/people`);
    await checkPage(page, 'phone-people', { fullPage: false });
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('signing certificates roll over from the Sign On tab: generate, confirm, make active, delete the old one', async () => {
  await sweepIDs();
  const app = await demo.api('POST', '/api/v1/apps?activate=true', {
    label: 'Expense Reports',
    signOnMode: 'SAML_2_0',
    settings: { signOn: signOn() },
  });
  const firstKid = app.credentials.signing.kid;
  await page.goto(`${demo.url}/admin/apps/${app.id}/signon`);
  const keys = page.locator('section#keys');
  const rows = () => keys.locator('tbody tr');
  assert.equal(await rows().count(), 1);

  await keys.getByRole('button', { name: 'Generate new certificate' }).click();
  await page.waitForURL((u) => u.searchParams.has('ok'));
  assert.equal(await rows().count(), 2);
  const next = rows().filter({ hasNot: page.getByText(firstKid) });
  const nextKid = (await next.locator('code').innerText()).trim();
  // Nothing changes until the administrator says so.
  assert.equal((await demo.api('GET', `/api/v1/apps/${app.id}`)).credentials.signing.kid, firstKid);

  // "Make active" asks first: dismissed, the old key stays; accepted, the new one signs.
  page.once('dialog', (d) => d.dismiss());
  await next.getByRole('button', { name: 'Make active' }).click();
  assert.equal((await demo.api('GET', `/api/v1/apps/${app.id}`)).credentials.signing.kid, firstKid);
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await Promise.all([page.waitForURL((u) => u.searchParams.get('ok') === 'keyactive'), next.getByRole('button', { name: 'Make active' }).click()]);
  assert.match(asked, /metadata/i);
  assert.equal((await demo.api('GET', `/api/v1/apps/${app.id}`)).credentials.signing.kid, nextKid);
  await checkPage(page, 'keys-rolled-over', { screenshot: false });

  // The old certificate can now be deleted; the active one cannot.
  const old = rows().filter({ has: page.getByText(firstKid) });
  assert.equal(await rows().filter({ has: page.getByText(nextKid) }).getByRole('button', { name: 'Delete' }).count(), 0);
  page.once('dialog', (d) => d.accept());
  await Promise.all([page.waitForURL((u) => u.searchParams.get('ok') === 'deleted'), old.getByRole('button', { name: 'Delete' }).click()]);
  assert.equal(await rows().count(), 1);
  assert.match(await rows().first().innerText(), new RegExp(nextKid.replace(/[-]/g, '\\-')));
});

test('an activation link lets a new person choose a password, with errors beside the fields, once', async () => {
  await browser.context.clearCookies();
  sweep = undefined;
  const login = 'new.hire@example.com';
  const user = await demo.api('POST', '/api/v1/users?activate=false', { profile: { login, email: login, firstName: 'Nia', lastName: 'Newhire' } });
  const { activationUrl } = await demo.api('POST', `/api/v1/users/${user.id}/lifecycle/activate?sendEmail=false`);
  assert.ok(activationUrl.startsWith(`${demo.url}/welcome/`), activationUrl);

  await page.goto(activationUrl);
  await page.getByRole('heading', { name: 'Activate your account' }).waitFor();
  await checkPage(page, 'activate', { screenshot: false });
  await page.getByLabel('New password').fill('Wardrobe-Lamp-93');
  await page.getByLabel('Repeat the password').fill('Wardrobe-Lamp-39');
  await page.getByRole('button', { name: 'Set password' }).click();
  assert.match(await fieldError(page, 'Repeat the password'), /not the same/);
  await checkPage(page, 'activate-mismatch', { screenshot: false });
  await page.getByLabel('New password').fill('short');
  await page.getByLabel('Repeat the password').fill('short');
  await page.getByRole('button', { name: 'Set password' }).click();
  assert.match(await fieldError(page, 'New password'), /at least 8 characters/);
  await page.getByLabel('New password').fill('Wardrobe-Lamp-93');
  await page.getByLabel('Repeat the password').fill('Wardrobe-Lamp-93');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal((await demo.api('GET', `/api/v1/users/${user.id}`)).status, 'ACTIVE');

  await page.getByLabel('Username').fill(login);
  await page.getByLabel('Password').fill('Wardrobe-Lamp-93');
  await page.getByRole('button', { name: 'Sign In', exact: true }).click();
  await page.waitForURL((u) => u.pathname === '/app/UserHome');
  await checkPage(page, 'dashboard-empty', { screenshot: false });
  // The link works once.
  const again = await page.goto(activationUrl);
  assert.equal(again.status(), 404);
  assert.equal(await page.getByLabel('New password').count(), 0);
});

test('a person signs in and opens a tile with the keyboard alone, with focus always visible', async () => {
  const { info } = demo;
  await browser.context.clearCookies();
  sweep = undefined;
  await page.goto(info.sign_in_url);
  // The username field has focus on arrival.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');
  await page.keyboard.type(info.agent.username);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
  await page.keyboard.type(info.agent.password);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/app/UserHome');

  /** The focused element: its text, whether it shows an outline, whether it is on screen. */
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return {
      text: (el.textContent || el.getAttribute('aria-label') || '').trim(),
      outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2,
      onScreen: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth,
    };
  });
  // The first Tab reaches "Skip to content", which appears.
  await page.keyboard.press('Tab');
  assert.deepEqual(await focused(), { text: 'Skip to content', outline: true, onScreen: true });
  // Every stop on the way to the tile is outlined and on screen.
  let stop;
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    stop = await focused();
    assert.ok(stop.outline && stop.onScreen, `focus on "${stop.text}" is not visible: ${JSON.stringify(stop)}`);
    if (stop.text.includes('Amazon Connect')) break;
  }
  assert.match(stop.text, /Amazon Connect/, 'Tab never reached the Amazon Connect tile');
  const [tab] = await Promise.all([page.waitForEvent('popup'), page.keyboard.press('Enter')]);
  await tab.waitForURL(`${info.sandbox.url}/connect/federate/${info.sandbox.connect_instance_id}`, { timeout: 15_000 });
  assert.equal(await tab.locator('#username').innerText(), info.agent.username);
  await tab.close();
});
