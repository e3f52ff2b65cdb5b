// Okta's own Auth JavaScript SDK (@okta/okta-auth-js) against Gatehouse's
// classic Authentication API: signInWithCredentials, the MFA_REQUIRED
// transaction's factor.verify({ passCode }) with a real TOTP code, the
// transaction's cancel(), and the SDK's sessionCookieRedirect address
// exchanged for the session cookie that then launches the assigned SAML
// app. The SDK builds its transaction objects from the answers' _links
// (hints.allow) and _embedded, so a shape that differs from Okta's breaks
// here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';

import { OktaAuth } from '@okta/okta-auth-js';
import { Gatehouse } from '../lib/gatehouse.js';
import { appWithUser, PASSWORD } from '../lib/fixtures.js';

function authClient(gh) {
  return new OktaAuth({ issuer: `${gh.baseURL}/oauth2/default`, clientId: 'cli', redirectUri: `${gh.baseURL}/callback` });
}

/** RFC 6238 code of a base32 seed, steps time steps from now. */
function totp(seed, steps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of seed.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + steps));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Follows one sessionCookieRedirect by hand; returns the session cookie. */
async function exchange(gh, url) {
  const r = await fetch(url, { redirect: 'manual' });
  await r.arrayBuffer();
  assert.equal(r.status, 302, `sessionCookieRedirect answered ${r.status}`);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('gh_sid='));
  assert.ok(cookie, 'the session cookie is set');
  return { cookie: cookie.split(';')[0], location: r.headers.get('location') };
}

test('okta-auth-js: signInWithCredentials, sessionCookieRedirect and the app launch', async (t) => {
  const gh = await Gatehouse.start();
  t.after(() => gh.stop());
  const { app, user, login } = await appWithUser(gh, 'AuthJS', 'ivy@example.com');
  const authn = authClient(gh);

  const tx = await authn.signInWithCredentials({ username: login, password: PASSWORD });
  assert.equal(tx.status, 'SUCCESS');
  assert.match(tx.sessionToken, /^\S{40,}$/);
  assert.equal(tx.user.id, user.id);
  assert.equal(tx.user.profile.login, login);

  // Wrong credentials: the SDK's AuthApiError with Okta's code, the same
  // for an unknown person.
  for (const username of [login, 'nobody@example.com']) {
    await assert.rejects(authn.signInWithCredentials({ username, password: 'Wrong-Passw0rd-1' }), (err) => {
      assert.equal(err.name, 'AuthApiError');
      assert.equal(err.errorCode, 'E0000004');
      assert.equal(err.errorSummary, 'Authentication failed');
      return true;
    });
  }

  // The address setCookieAndRedirect sends the browser to, with the app's
  // launch link as redirectUrl.
  const link = app._links.appLinks[0].href;
  const url = `${gh.baseURL}/login/sessionCookieRedirect?checkAccountSetupComplete=true&token=${encodeURIComponent(tx.sessionToken)}&redirectUrl=${encodeURIComponent(link)}`;
  const { cookie, location } = await exchange(gh, url);
  assert.equal(new URL(location, gh.baseURL).href, link);
  const launch = await fetch(link, { headers: { Cookie: cookie } });
  const page = await launch.text();
  assert.equal(launch.status, 200);
  assert.match(page, /name="SAMLResponse" value="[^"]+"/);

  // session.get() reads /api/v1/sessions/me with the cookie.
  const me = await fetch(`${gh.baseURL}/api/v1/sessions/me`, { headers: { Cookie: cookie, Accept: 'application/json' } });
  const session = await me.json();
  assert.equal(me.status, 200);
  assert.equal(session.userId, user.id);
  assert.deepEqual(session.amr, ['pwd']);

  // The token was used up.
  const again = await fetch(url, { redirect: 'manual' });
  await again.arrayBuffer();
  assert.equal(again.status, 401);
});

test('okta-auth-js: MFA_REQUIRED, factor.verify with a TOTP code, cancel', async (t) => {
  const gh = await Gatehouse.start();
  t.after(() => gh.stop());
  const { user, login } = await appWithUser(gh, 'AuthJSMFA', 'jon@example.com');
  const factor = await gh.mustAPI('POST', `/api/v1/users/${user.id}/factors`, { factorType: 'token:software:totp', provider: 'OKTA' });
  const seed = factor._embedded.activation.sharedSecret;
  await gh.mustAPI('POST', `/api/v1/users/${user.id}/factors/${factor.id}/lifecycle/activate`, { passCode: totp(seed, -1) });
  const authn = authClient(gh);

  let tx = await authn.signInWithCredentials({ username: login, password: PASSWORD, options: { multiOptionalFactorEnroll: false, warnBeforePasswordExpired: true } });
  assert.equal(tx.status, 'MFA_REQUIRED');
  assert.equal(tx.factors.length, 1);
  const f = tx.factors[0];
  assert.equal(f.factorType, 'token:software:totp');
  assert.equal(f.provider, 'OKTA');
  assert.equal(typeof f.verify, 'function', 'the factor has a verify link the SDK can call');

  // A wrong code: E0000068.
  await assert.rejects(f.verify({ passCode: '000000' }), (err) => err.errorCode === 'E0000068');
  // The right one: SUCCESS with a sessionToken.
  const done = await f.verify({ passCode: totp(seed, 0) });
  assert.equal(done.status, 'SUCCESS');
  assert.match(done.sessionToken, /^\S{40,}$/);
  const { cookie } = await exchange(gh, `${gh.baseURL}/login/sessionCookieRedirect?token=${encodeURIComponent(done.sessionToken)}&redirectUrl=%2Fapp%2FUserHome`);
  const me = await (await fetch(`${gh.baseURL}/api/v1/sessions/me`, { headers: { Cookie: cookie } })).json();
  assert.deepEqual(me.amr, ['pwd', 'otp', 'mfa']);

  // cancel() ends a transaction: its stateToken is refused afterwards.
  tx = await authn.signInWithCredentials({ username: login, password: PASSWORD });
  assert.equal(tx.status, 'MFA_REQUIRED');
  const stateToken = tx.data.stateToken;
  await tx.cancel();
  await assert.rejects(authn.tx.resume({ stateToken }), (err) => err.errorCode === 'E0000011');
});

test('okta-auth-js: MFA_ENROLL, factor.enroll() and activate({ passCode })', async (t) => {
  const gh = await Gatehouse.start();
  t.after(() => gh.stop());
  const { user, login } = await appWithUser(gh, 'AuthJSEnroll', 'kai@example.com');
  // A session policy rule that requires a second factor of the group.
  const group = await gh.createGroup('Needs MFA');
  await gh.addToGroup(group.id, user.id);
  const [policy] = await gh.mustAPI('GET', '/api/v1/policies?type=OKTA_SIGN_ON');
  await gh.mustAPI('POST', `/api/v1/policies/${policy.id}/rules`, {
    name: 'MFA', type: 'SIGN_ON', conditions: { people: { groups: { include: [group.id] } } },
    actions: { signon: { access: 'ALLOW', requireFactor: true } },
  });
  const authn = authClient(gh);

  let tx = await authn.signInWithCredentials({ username: login, password: PASSWORD });
  assert.equal(tx.status, 'MFA_ENROLL');
  const offer = tx.factors.find((f) => f.factorType === 'token:software:totp' && f.provider === 'OKTA');
  assert.equal(typeof offer?.enroll, 'function', 'the offered factor has an enroll link the SDK can call');
  tx = await offer.enroll();
  assert.equal(tx.status, 'MFA_ENROLL_ACTIVATE');
  const seed = tx.factor.activation.sharedSecret;
  assert.match(seed, /^[A-Z2-7]{16,}$/);
  assert.equal(typeof tx.activate, 'function');
  await assert.rejects(tx.activate({ passCode: '000000' }), (err) => err.errorCode === 'E0000068');
  tx = await tx.activate({ passCode: totp(seed, 0) });
  assert.equal(tx.status, 'SUCCESS');
  assert.match(tx.sessionToken, /^\S{40,}$/);

  // The next sign-in asks for the new factor.
  tx = await authn.signInWithCredentials({ username: login, password: PASSWORD });
  assert.equal(tx.status, 'MFA_REQUIRED');
  assert.equal(tx.factors[0].factorType, 'token:software:totp');
});
