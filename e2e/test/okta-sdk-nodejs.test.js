// The official Okta SDK for Node.js (@okta/okta-sdk-nodejs) as an
// independent client of Gatehouse's management API: it deserializes every
// answer into its own typed models, follows Link headers for paging and
// turns error bodies into OktaApiError, so a shape that differs from Okta's
// shows up here even where the Go SDK is lenient.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import okta from '@okta/okta-sdk-nodejs';
import { Gatehouse } from '../lib/gatehouse.js';

async function withClient(t) {
  const gh = await Gatehouse.start();
  t.after(() => gh.stop());
  const client = new okta.Client({ orgUrl: gh.baseURL, token: gh.token });
  return { gh, client };
}

async function all(collection) {
  const out = [];
  for await (const item of collection) {
    out.push(item);
  }
  return out;
}

/** Runs f and returns the OktaApiError it must throw. */
async function apiError(f) {
  try {
    await f();
  } catch (err) {
    assert.equal(err.name, 'OktaApiError', `expected an OktaApiError, got ${err}`);
    return err;
  }
  assert.fail('the call succeeded');
}

const profile = (login, extra = {}) => ({ firstName: 'Ada', lastName: 'Lovelace', email: login, login, ...extra });

test('Okta Node SDK: users are created, read by id and login, updated, paged, searched and moved through their lifecycle', async (t) => {
  const { client } = await withClient(t);
  const users = client.userApi;

  const ada = await users.createUser({
    body: { profile: profile('ada@example.com', { department: 'Research' }), credentials: { password: { value: 'Analytical-Engine-1843' } } },
    activate: true,
  });
  assert.match(ada.id, /^00u[0-9A-Za-z]{17}$/);
  assert.equal(ada.status, 'ACTIVE');
  assert.equal(ada.profile.department, 'Research');
  assert.ok(ada.created instanceof Date && !Number.isNaN(ada.created.getTime()), 'created is a timestamp');
  assert.equal(ada.credentials.provider.type, 'OKTA');
  assert.equal(ada.credentials.password.value, undefined, 'the password is never returned');

  const byLogin = await users.getUser({ userId: 'ada@example.com' });
  assert.equal(byLogin.id, ada.id);

  const partial = await users.updateUser({ userId: ada.id, user: { profile: { title: 'Countess' } } });
  assert.equal(partial.profile.title, 'Countess');
  assert.equal(partial.profile.department, 'Research', 'a partial update keeps the other attributes');
  const full = await users.replaceUser({ userId: ada.id, user: { profile: profile('ada@example.com', { title: 'Analyst' }) } });
  assert.equal(full.profile.title, 'Analyst');
  assert.equal(full.profile.department, undefined, 'a full update replaces the profile');
  assert.ok(full.lastUpdated >= ada.lastUpdated);

  const staged = [];
  for (let i = 0; i < 7; i++) {
    staged.push(await users.createUser({ body: { profile: profile(`agent${i}@example.com`, { firstName: `Agent${i}` }) }, activate: false }));
  }
  assert.ok(staged.every((u) => u.status === 'STAGED'));

  // Paging through Link headers, three at a time: every user exactly once.
  const paged = await all(await users.listUsers({ limit: 3 }));
  const ids = paged.map((u) => u.id);
  assert.equal(new Set(ids).size, ids.length, 'no user twice across pages');
  for (const u of [ada, ...staged]) {
    assert.ok(ids.includes(u.id), `${u.profile.login} listed`);
  }

  const stagedFound = await all(await users.listUsers({ search: 'status eq "STAGED" and profile.firstName sw "Agent"', limit: 2 }));
  assert.deepEqual(stagedFound.map((u) => u.id).sort(), staged.map((u) => u.id).sort());
  // A sorted search, paged two at a time: the Link headers carry sortBy and sortOrder.
  const sortedDesc = await all(await users.listUsers({ search: 'profile.firstName sw "Agent"', sortBy: 'profile.firstName', sortOrder: 'desc', limit: 2 }));
  assert.deepEqual(sortedDesc.map((u) => u.profile.firstName), ['Agent6', 'Agent5', 'Agent4', 'Agent3', 'Agent2', 'Agent1', 'Agent0']);
  const byCreated = await all(await users.listUsers({ search: 'status eq "STAGED"', sortBy: 'created', sortOrder: 'asc', limit: 3 }));
  assert.deepEqual(byCreated.map((u) => u.id), staged.map((u) => u.id));
  const byFilter = await all(await users.listUsers({ filter: 'profile.login eq "agent3@example.com"' }));
  assert.deepEqual(byFilter.map((u) => u.id), [staged[3].id]);
  const byQ = await all(await users.listUsers({ q: 'agent5' }));
  assert.deepEqual(byQ.map((u) => u.id), [staged[5].id]);

  await users.suspendUser({ userId: ada.id });
  assert.equal((await users.getUser({ userId: ada.id })).status, 'SUSPENDED');
  await users.unsuspendUser({ userId: ada.id });
  assert.equal((await users.getUser({ userId: ada.id })).status, 'ACTIVE');

  const activation = await users.activateUser({ userId: staged[0].id, sendEmail: false });
  assert.match(activation.activationUrl, /^http:\/\/127\.0\.0\.1:\d+\//);
  assert.ok(activation.activationToken.length >= 20);
  assert.equal((await users.getUser({ userId: staged[0].id })).status, 'PROVISIONED');

  await users.deactivateUser({ userId: ada.id });
  assert.equal((await users.getUser({ userId: ada.id })).status, 'DEPROVISIONED');
  await users.deleteUser({ userId: ada.id });
  const gone = await apiError(() => users.getUser({ userId: ada.id }));
  assert.equal(gone.status, 404);
  assert.equal(gone.errorCode, 'E0000007');
});

test('Okta Node SDK: errors arrive as OktaApiError with Okta codes and causes, and change nothing', async (t) => {
  const { client } = await withClient(t);
  const users = client.userApi;
  await users.createUser({ body: { profile: profile('grace@example.com') }, activate: false });

  const dup = await apiError(() => users.createUser({ body: { profile: profile('grace@example.com') } }));
  assert.equal(dup.status, 400);
  assert.equal(dup.errorCode, 'E0000001');
  assert.ok(dup.errorCauses.some((c) => /^login: /.test(c.errorSummary)), JSON.stringify(dup.errorCauses));
  assert.ok(dup.errorId);

  const weak = await apiError(() => users.createUser({ body: { profile: profile('weak@example.com'), credentials: { password: { value: 'short' } } } }));
  assert.equal(weak.status, 400);
  assert.equal(weak.errorCode, 'E0000001');
  assert.ok(weak.errorCauses.some((c) => /password/i.test(c.errorSummary)), JSON.stringify(weak.errorCauses));
  assert.equal((await apiError(() => users.getUser({ userId: 'weak@example.com' }))).errorCode, 'E0000007', 'the refused user was not created');

  const grace = await users.getUser({ userId: 'grace@example.com' });
  const illegal = await apiError(() => users.suspendUser({ userId: grace.id }));
  assert.equal(illegal.status, 400);
  assert.equal(illegal.errorCode, 'E0000001');
  assert.match(illegal.errorSummary, /Cannot suspend a user that is not active/);
  assert.equal((await users.getUser({ userId: grace.id })).status, 'STAGED');

  const badSearch = await apiError(async () => all(await users.listUsers({ search: 'status eq' })));
  assert.equal(badSearch.status, 400);

  const stranger = new okta.Client({ orgUrl: client.baseUrl, token: 'not-a-gatehouse-token-0123456789' });
  const unauth = await apiError(() => stranger.userApi.getUser({ userId: grace.id }));
  assert.equal(unauth.status, 401);
  assert.equal(unauth.errorCode, 'E0000011');
});

test('Okta Node SDK: groups, memberships, a SAML app with its keys and assignments, and the system log', async (t) => {
  const { client, gh } = await withClient(t);
  const ada = await client.userApi.createUser({ body: { profile: profile('ada@example.com'), credentials: { password: { value: 'Analytical-Engine-1843' } } }, activate: true });

  const group = await client.groupApi.createGroup({ group: { profile: { name: 'Contact Center Agents', description: 'Agents on the phones' } } });
  assert.match(group.id, /^00g[0-9A-Za-z]{17}$/);
  assert.equal(group.type, 'OKTA_GROUP');
  await client.groupApi.assignUserToGroup({ groupId: group.id, userId: ada.id });
  assert.deepEqual((await all(await client.groupApi.listGroupUsers({ groupId: group.id }))).map((u) => u.id), [ada.id]);
  assert.deepEqual((await all(await client.userApi.listUserGroups({ userId: ada.id }))).map((g) => g.profile.name), ['Contact Center Agents']);
  assert.deepEqual((await all(await client.groupApi.listGroups({ q: 'Contact' }))).map((g) => g.id), [group.id]);
  const renamed = await client.groupApi.replaceGroup({ groupId: group.id, group: { profile: { name: 'Agents', description: 'Renamed' } } });
  assert.equal(renamed.profile.name, 'Agents');

  const app = await client.applicationApi.createApplication({
    application: {
      label: 'Wiki',
      signOnMode: 'SAML_2_0',
      settings: {
        signOn: {
          ssoAcsUrl: 'https://wiki.example.test/saml/acs',
          recipient: 'https://wiki.example.test/saml/acs',
          destination: 'https://wiki.example.test/saml/acs',
          audience: 'https://wiki.example.test/saml',
          subjectNameIdTemplate: '${user.userName}',
          subjectNameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
          responseSigned: true,
          assertionSigned: true,
          signatureAlgorithm: 'RSA_SHA256',
          digestAlgorithm: 'SHA256',
          authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
          attributeStatements: [{ type: 'EXPRESSION', name: 'email', namespace: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic', values: ['user.email'] }],
        },
      },
    },
  });
  assert.match(app.id, /^0oa[0-9A-Za-z]{17}$/);
  assert.equal(app.signOnMode, 'SAML_2_0');
  assert.equal(app.status, 'ACTIVE');
  const read = await client.applicationApi.getApplication({ appId: app.id });
  assert.equal(read.settings.signOn.ssoAcsUrl, 'https://wiki.example.test/saml/acs');
  assert.equal(read.settings.signOn.attributeStatements[0].name, 'email');
  assert.deepEqual((await all(await client.applicationApi.listApplications({ q: 'Wik' }))).map((a) => a.id), [app.id]);

  const keys = await all(await client.applicationApi.listApplicationKeys({ appId: app.id }));
  assert.equal(keys.length, 1);
  assert.equal(keys[0].kty, 'RSA');
  assert.ok(keys[0].x5c[0].length > 500, 'the signing certificate is published');
  const metadata = await fetch(`${gh.baseURL}/api/v1/apps/${app.id}/sso/saml/metadata`, { headers: { Authorization: `SSWS ${gh.token}` } }).then((r) => r.text());
  assert.ok(metadata.includes(keys[0].x5c[0]), 'the metadata carries the key listed by the SDK');

  const appUser = await client.applicationApi.assignUserToApplication({ appId: app.id, appUser: { id: ada.id, scope: 'USER', credentials: { userName: 'ada@example.com' } } });
  assert.equal(appUser.id, ada.id);
  assert.equal(appUser.credentials.userName, 'ada@example.com');
  assert.deepEqual((await all(await client.applicationApi.listApplicationUsers({ appId: app.id }))).map((u) => u.id), [ada.id]);
  const appGroup = await client.applicationApi.assignGroupToApplication({ appId: app.id, groupId: group.id, applicationGroupAssignment: { priority: 0 } });
  assert.equal(appGroup.id, group.id);
  assert.deepEqual((await all(await client.applicationApi.listApplicationGroupAssignments({ appId: app.id }))).map((g) => g.id), [group.id]);
  // The group's _links.apps: the apps it is assigned to, paged.
  assert.equal(renamed._links.apps.href, `${gh.baseURL}/api/v1/groups/${group.id}/apps`);
  assert.deepEqual((await all(await client.groupApi.listAssignedApplicationsForGroup({ groupId: group.id, limit: 1 }))).map((a) => a.id), [app.id]);
  // A person's groups, one to a page, followed through the Link headers.
  const second = await client.groupApi.createGroup({ group: { profile: { name: 'Supervisors' } } });
  await client.groupApi.assignUserToGroup({ groupId: second.id, userId: ada.id });
  assert.deepEqual((await all(await client.userApi.listUserGroups({ userId: ada.id, limit: 1 }))).map((g) => g.id).sort(), [group.id, second.id].sort());

  await client.applicationApi.deactivateApplication({ appId: app.id });
  assert.equal((await client.applicationApi.getApplication({ appId: app.id })).status, 'INACTIVE');

  // A bounded request (until given): its pages end. Without until it would
  // be a polling request, whose next link never ends (as in Okta).
  const events = await all(await client.systemLogApi.listLogEvents({ filter: `target.id eq "${group.id}"`, sortOrder: 'ASCENDING', until: new Date(Date.now() + 60 * 1000).toISOString() }));
  const types = events.map((e) => e.eventType);
  assert.ok(types.includes('group.lifecycle.create'), types.join(','));
  assert.ok(types.includes('group.user_membership.add'), types.join(','));
  const add = events.find((e) => e.eventType === 'group.user_membership.add');
  assert.equal(add.outcome.result, 'SUCCESS');
  assert.ok(add.published instanceof Date);
  assert.ok(add.target.some((x) => x.id === ada.id && x.type === 'User'));

  await client.groupApi.deleteGroup({ groupId: group.id });
  assert.equal((await apiError(() => client.groupApi.getGroup({ groupId: group.id }))).errorCode, 'E0000007');
});

test('Okta Node SDK: group rules are created inactive, listed with group names, activated (matching people join), replaced while inactive and deleted with their members', async (t) => {
  const { gh, client } = await withClient(t);
  const groups = client.groupApi;
  const sales = await groups.createGroup({ group: { profile: { name: 'Sales' } } });
  const reps = [];
  for (const login of ['rep1@example.com', 'rep2@example.com']) {
    reps.push(await client.userApi.createUser({ body: { profile: profile(login, { department: 'Sales' }), credentials: { password: { value: 'Analytical-Engine-1843' } } }, activate: true }));
  }
  await client.userApi.createUser({ body: { profile: profile('eng@example.com', { department: 'Engineering' }), credentials: { password: { value: 'Analytical-Engine-1843' } } }, activate: true });

  const body = (name, exclude) => ({
    type: 'group_rule',
    name,
    conditions: { people: { users: { exclude } }, expression: { value: 'user.department == "Sales"', type: 'urn:okta:expression:1.0' } },
    actions: { assignUserToGroups: { groupIds: [sales.id] } },
  });
  const rule = await groups.createGroupRule({ groupRule: body('Sales people', [reps[1].id]) });
  assert.match(rule.id, /^0pr[0-9A-Za-z]{17}$/);
  assert.equal(rule.status, 'INACTIVE');
  assert.equal(rule.type, 'group_rule');
  assert.ok(rule.created instanceof Date && !Number.isNaN(rule.created.getTime()), 'created is a timestamp');
  assert.deepEqual(rule.conditions.people.users.exclude, [reps[1].id]);
  assert.deepEqual(rule.actions.assignUserToGroups.groupIds, [sales.id]);

  const listed = await all(await groups.listGroupRules({ expand: 'groupIdToGroupNameMap', search: 'sales' }));
  assert.deepEqual(listed.map((r) => r.id), [rule.id]);
  // The SDK's GroupRule model has no _embedded: read the map raw.
  const raw = await fetch(`${gh.baseURL}/api/v1/groups/rules?expand=groupIdToGroupNameMap`, { headers: { Authorization: `SSWS ${gh.token}`, Accept: 'application/json' } }).then((r) => r.json());
  assert.equal(raw[0]._embedded.groupIdToGroupNameMap[sales.id], 'Sales');

  await groups.activateGroupRule({ ruleId: rule.id });
  assert.equal((await groups.getGroupRule({ ruleId: rule.id })).status, 'ACTIVE');
  assert.deepEqual((await all(await groups.listGroupUsers({ groupId: sales.id }))).map((u) => u.profile.login), ['rep1@example.com']);

  const refused = await apiError(() => groups.replaceGroupRule({ ruleId: rule.id, groupRule: body('Renamed', []) }));
  assert.equal(refused.errorCode, 'E0000001');
  await groups.deactivateGroupRule({ ruleId: rule.id });
  const replaced = await groups.replaceGroupRule({ ruleId: rule.id, groupRule: body('Renamed', []) });
  assert.equal(replaced.name, 'Renamed');
  assert.deepEqual(replaced.conditions.people.users.exclude, []);
  await groups.activateGroupRule({ ruleId: rule.id });
  assert.deepEqual((await all(await groups.listGroupUsers({ groupId: sales.id }))).map((u) => u.profile.login).sort(), ['rep1@example.com', 'rep2@example.com']);

  const bad = await apiError(() => groups.createGroupRule({ groupRule: { ...body('Broken', []), conditions: { expression: { value: 'user.department ==', type: 'urn:okta:expression:1.0' } } } }));
  assert.equal(bad.errorCode, 'E0000001');
  assert.match(bad.errorCauses[0].errorSummary, /at 1:\d+/);

  await groups.deleteGroupRule({ ruleId: rule.id, removeUsers: true });
  assert.deepEqual(await all(await groups.listGroupUsers({ groupId: sales.id })), []);
  assert.equal((await apiError(() => groups.getGroupRule({ ruleId: rule.id }))).errorCode, 'E0000007');
});

test('Okta Node SDK: the spec operations the conformance audit added or fixed (metadata, group assignment q and PATCH, expand=user, projections, search operators, unique group names)', async (t) => {
  const { client } = await withClient(t);
  const ada = await client.userApi.createUser({ body: { profile: profile('ada@example.com'), credentials: { password: { value: 'Analytical-Engine-1843' } } }, activate: true });
  const editors = await client.groupApi.createGroup({ group: { profile: { name: 'Editors' } } });
  await client.groupApi.createGroup({ group: { profile: { name: 'Readers' } } });
  const dup = await apiError(() => client.groupApi.createGroup({ group: { profile: { name: 'EDITORS' } } }));
  assert.equal(dup.status, 400);
  assert.equal(dup.errorCode, 'E0000001');
  assert.equal(dup.errorSummary, 'Api validation failed: name');

  const app = await client.applicationApi.createApplication({
    application: {
      label: 'Docs',
      signOnMode: 'SAML_2_0',
      settings: { signOn: { ssoAcsUrl: 'https://docs.example.test/acs', recipient: 'https://docs.example.test/acs', destination: 'https://docs.example.test/acs', audience: 'urn:docs', subjectNameIdTemplate: '${user.userName}', subjectNameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', responseSigned: true, assertionSigned: true, signatureAlgorithm: 'RSA_SHA256', digestAlgorithm: 'SHA256', authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport' } },
    },
  });
  // The SDK parses text/xml only (application/xml made it throw).
  const metadata = await client.applicationApi.previewSAMLmetadataForApplication({ appId: app.id, kid: app.credentials.signing.kid });
  assert.match(metadata, /IDPSSODescriptor/);

  await client.applicationApi.assignGroupToApplication({ appId: app.id, groupId: editors.id, applicationGroupAssignment: { priority: 0 } });
  const patched = await client.applicationApi.updateGroupAssignmentToApplication({ appId: app.id, groupId: editors.id, jsonPatchOperation: [{ op: 'replace', path: '/profile', value: { team: 'docs' } }] });
  assert.equal(patched.profile.team, 'docs');
  assert.deepEqual((await all(await client.applicationApi.listApplicationGroupAssignments({ appId: app.id, q: 'edi' }))).map((g) => g.id), [editors.id]);
  assert.deepEqual(await all(await client.applicationApi.listApplicationGroupAssignments({ appId: app.id, q: 'rea' })), []);

  await client.applicationApi.assignUserToApplication({ appId: app.id, appUser: { id: ada.id, scope: 'USER' } });
  const withUser = await client.applicationApi.getApplication({ appId: app.id, expand: `user/${ada.id}` });
  assert.equal(withUser._embedded.user.id, ada.id);
  assert.equal(withUser.accessibility.errorRedirectUrl, undefined);

  const projected = (await all(await client.userApi.listUsers({ fields: 'status,profile:(login)' }))).find((u) => u.id === ada.id);
  assert.equal(projected.profile.login, 'ada@example.com');
  assert.equal(projected.profile.firstName, undefined);
  assert.equal(projected.created, undefined);
  assert.deepEqual((await all(await client.userApi.listUsers({ search: 'profile.login co "ada"' }))).map((u) => u.id), [ada.id]);
  const ne = await apiError(async () => all(await client.userApi.listUsers({ search: 'status ne "ACTIVE"' })));
  assert.equal(ne.errorCode, 'E0000031');
});
