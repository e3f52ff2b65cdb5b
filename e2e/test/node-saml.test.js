// node-saml as the service provider: SP-initiated (HTTP-Redirect) and
// IdP-initiated sign-on, signed AuthnRequests, encrypted assertions and
// single logout against the real gatehouse binary. Each test starts its own
// Gatehouse and stops it at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';

import { ValidateInResponseTo } from '@node-saml/node-saml';
import { Gatehouse } from '../lib/gatehouse.js';
import { Browser, samlForm, spInitiatedSignIn } from '../lib/browser.js';
import { appWithUser, PASSWORD, signOn, SP_ACS, SP_ENTITY_ID, SP_HOME, SP_SLO } from '../lib/fixtures.js';
import { parseIdPMetadata } from '../lib/metadata.js';
import postSigning from '@node-saml/node-saml/lib/saml-post-signing.js';
import { nodeSamlSP } from '../lib/nodesaml.js';
import { makeSPKeyPair } from '../lib/spkeys.js';

const { signSamlPost } = postSigning;

const EMAIL_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';

async function withGatehouse(t) {
  const gh = await Gatehouse.start();
  t.after(() => gh.stop());
  return gh;
}

function decode(samlResponse) {
  return Buffer.from(samlResponse, 'base64').toString('utf8');
}

/** Flips one character of the NameID inside the signed XML. */
function tamper(samlResponse, from, to) {
  const xml = decode(samlResponse);
  assert.ok(xml.includes(from), `response does not contain ${from}`);
  return Buffer.from(xml.replace(from, to)).toString('base64');
}

test('node-saml: SP-initiated HTTP-Redirect sign-on is accepted with audience, InResponseTo, NameID and attributes', async (t) => {
  const gh = await withGatehouse(t);
  const setup = await appWithUser(gh, 'Wiki', 'ana@example.com');
  const md = parseIdPMetadata(setup.metadataXML);
  const sp = nodeSamlSP(md);

  const authURL = await sp.getAuthorizeUrlAsync('state-123', undefined, {});
  const sent = new URL(authURL);
  const authnRequest = inflateRawSync(Buffer.from(sent.searchParams.get('SAMLRequest'), 'base64')).toString();
  const requestID = authnRequest.match(/ID="([^"]+)"/)[1];

  const browser = new Browser(gh.baseURL);
  const { page, form } = await spInitiatedSignIn(browser, authURL, setup.login, PASSWORD);
  assert.equal(form.action, SP_ACS);
  assert.equal(form.RelayState, 'state-123');
  assert.match(page.headers.get('content-security-policy'), /form-action https:\/\/sp\.example\.test/);
  assert.equal(page.headers.get('cache-control'), 'no-store');

  const xml = decode(form.SAMLResponse);
  assert.match(xml, new RegExp(`InResponseTo="${requestID}"`));

  const { profile, loggedOut } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse, RelayState: form.RelayState });
  assert.equal(loggedOut, false);
  assert.equal(profile.issuer, md.entityID);
  assert.equal(profile.nameID, 'ana@example.com');
  assert.equal(profile.nameIDFormat, EMAIL_FORMAT);
  assert.equal(profile.inResponseTo, requestID);
  assert.equal(profile.email, 'ana@example.com');
  assert.equal(profile.displayName, 'Pat Doe');
  assert.equal(profile.groups, setup.group);
  assert.ok(profile.sessionIndex, 'AuthnStatement has a SessionIndex');

  // The same response is not accepted twice (node-saml consumed the request
  // ID), and a tampered copy fails signature validation.
  await assert.rejects(sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse }), /InResponseTo is not valid/);
  const again = nodeSamlSP(md, { validateInResponseTo: ValidateInResponseTo.never });
  await assert.rejects(again.validatePostResponseAsync({ SAMLResponse: tamper(form.SAMLResponse, '>ana@example.com<', '>anb@example.com<') }),
    /signature/i);

  // An SP that expects another audience refuses the assertion.
  const otherAudience = nodeSamlSP(md, { audience: 'https://other.example.test/metadata', validateInResponseTo: ValidateInResponseTo.never });
  await assert.rejects(otherAudience.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse }), /audience/i);
  // An SP that trusts another IdP certificate refuses it too.
  const otherKey = await makeSPKeyPair('not-the-idp.example.test');
  const wrongCert = nodeSamlSP(md, { idpCert: otherKey.x5c, validateInResponseTo: ValidateInResponseTo.never });
  await assert.rejects(wrongCert.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse }), /signature/i);
});

test('node-saml: IdP-initiated sign-on from the app link is accepted as an unsolicited response', async (t) => {
  const gh = await withGatehouse(t);
  const setup = await appWithUser(gh, 'Portal', 'bo@example.com');
  const md = parseIdPMetadata(setup.metadataXML);
  const link = setup.app._links.appLinks[0].href;
  assert.match(new URL(link).pathname, /^\/home\//);

  const browser = new Browser(gh.baseURL);
  // Not signed in: the link leads to the sign-in page and back.
  let page = await browser.follow(await browser.get(link));
  assert.equal(page.url.pathname, '/login');
  page = await browser.follow(await browser.submitSignIn(page, setup.login, PASSWORD));
  const form = samlForm(page);
  assert.equal(form.action, SP_ACS);
  assert.equal(form.RelayState, SP_HOME);
  assert.doesNotMatch(decode(form.SAMLResponse), /InResponseTo=/);

  // A strict SP (InResponseTo always required) refuses it...
  await assert.rejects(nodeSamlSP(md).validatePostResponseAsync({ SAMLResponse: form.SAMLResponse }), /InResponseTo is missing/);
  // ...one that allows unsolicited responses accepts it.
  const sp = nodeSamlSP(md, { validateInResponseTo: ValidateInResponseTo.ifPresent });
  const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse, RelayState: form.RelayState });
  assert.equal(profile.nameID, 'bo@example.com');
  assert.equal(profile.email, 'bo@example.com');
  assert.equal(profile.groups, setup.group);
  assert.equal(profile.issuer, md.entityID);

  // Signed in already: the link answers at once.
  const direct = await browser.get(link);
  const second = samlForm(direct);
  const { profile: p2 } = await sp.validatePostResponseAsync({ SAMLResponse: second.SAMLResponse });
  assert.equal(p2.nameID, 'bo@example.com');
  assert.notEqual(decode(second.SAMLResponse).match(/ ID="([^"]+)"/)[1], decode(form.SAMLResponse).match(/ ID="([^"]+)"/)[1]);
});

test('node-saml: signed AuthnRequests are required and verified with the registered SP certificate', async (t) => {
  const gh = await withGatehouse(t);
  const spKey = await makeSPKeyPair();
  const setup = await appWithUser(gh, 'Signed', 'cy@example.com', {
    spCertificate: { x5c: [spKey.x5c] },
    samlSignedRequestEnabled: true,
  });
  const md = parseIdPMetadata(setup.metadataXML);
  assert.equal(md.wantAuthnRequestsSigned, true, 'metadata announces WantAuthnRequestsSigned');

  const browser = new Browser(gh.baseURL);
  await browser.signIn(setup.login, PASSWORD);

  // Unsigned: refused with an error page, no SAML response.
  const unsigned = nodeSamlSP(md);
  let page = await browser.follow(await browser.get(await unsigned.getAuthorizeUrlAsync('', undefined, {})));
  assert.equal(page.status, 400);
  assert.match(page.body, /requires signed SAML requests/);
  assert.doesNotMatch(page.body, /SAMLResponse/);

  // Signed by a key Gatehouse does not know: refused.
  const stranger = await makeSPKeyPair('stranger.example.test');
  const forged = nodeSamlSP(md, { privateKey: stranger.key });
  page = await browser.follow(await browser.get(await forged.getAuthorizeUrlAsync('', undefined, {})));
  assert.equal(page.status, 400);
  assert.match(page.body, /signature is not valid/);
  assert.doesNotMatch(page.body, /SAMLResponse/);

  // Signed with the registered key (rsa-sha256 over the Redirect query): accepted.
  const sp = nodeSamlSP(md, { privateKey: spKey.key });
  const authURL = await sp.getAuthorizeUrlAsync('signed-state', undefined, {});
  const q = new URL(authURL).searchParams;
  assert.equal(q.get('SigAlg'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  assert.ok(q.get('Signature'));
  page = await browser.follow(await browser.get(authURL));
  const form = samlForm(page);
  assert.equal(form.RelayState, 'signed-state');
  const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
  assert.equal(profile.nameID, 'cy@example.com');

  // Replaying the signed request is refused.
  page = await browser.follow(await browser.get(authURL));
  assert.equal(page.status, 400);
  assert.match(page.body, /already used/);
  assert.doesNotMatch(page.body, /SAMLResponse/);
});

test('node-saml: encrypted assertions decrypt with the SP key for every data-encryption algorithm', async (t) => {
  const gh = await withGatehouse(t);
  const spKey = await makeSPKeyPair();
  const user = await gh.createUser('di@example.com', PASSWORD);
  const browser = new Browser(gh.baseURL);
  await browser.signIn('di@example.com', PASSWORD);

  for (const alg of ['AES256_GCM', 'AES128_GCM', 'AES256_CBC', 'AES128_CBC']) {
    await t.test(alg, async () => {
      const app = await gh.createSAMLApp(`Encrypted ${alg}`, signOn({
        assertionEncryption: { enabled: true, encryptionAlgorithm: alg, keyTransportAlgorithm: 'RSA_OAEP', x5c: [spKey.x5c] },
      }));
      await gh.assign(app.id, user.id);
      const md = parseIdPMetadata(await gh.metadata(app.id));
      const sp = nodeSamlSP(md, { decryptionPvk: spKey.key });

      const authURL = await sp.getAuthorizeUrlAsync('', undefined, {});
      const form = samlForm(await browser.follow(await browser.get(authURL)));
      const xml = decode(form.SAMLResponse);
      assert.match(xml, /EncryptedAssertion/);
      assert.doesNotMatch(xml, /di@example\.com/, 'nothing about the person in clear text');

      const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
      assert.equal(profile.nameID, 'di@example.com');
      assert.equal(profile.email, 'di@example.com');

      // Without the SP key there is nothing to read.
      const noKey = nodeSamlSP(md, { validateInResponseTo: ValidateInResponseTo.never });
      await assert.rejects(noKey.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse }), /decryption key/);
    });
  }
});

test('node-saml: single logout over HTTP-Redirect and HTTP-POST ends the Gatehouse session', async (t) => {
  const gh = await withGatehouse(t);
  // Single logout needs the SP's signing certificate: LogoutRequests must
  // be signed (SAML Profiles 4.4.4.1); node-saml signs them with its
  // privateKey.
  const spKey = await makeSPKeyPair();
  const setup = await appWithUser(gh, 'Logout', 'ed@example.com', {
    spCertificate: { x5c: [spKey.x5c] }, slo: { enabled: true, logoutUrl: SP_SLO },
  });
  const md = parseIdPMetadata(setup.metadataXML);
  const sp = nodeSamlSP(md, { privateKey: spKey.key });

  async function signOnThroughSP(browser) {
    const { form } = await spInitiatedSignIn(browser, await sp.getAuthorizeUrlAsync('', undefined, {}), setup.login, PASSWORD);
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    assert.equal(profile.nameID, setup.login);
    const home = await browser.get('/app/UserHome');
    assert.equal(home.status, 200, 'signed in to Gatehouse');
    return profile;
  }

  await t.test('HTTP-Redirect', async () => {
    const browser = new Browser(gh.baseURL);
    const profile = await signOnThroughSP(browser);
    // node-saml without a key sends its LogoutRequest unsigned: refused,
    // and the session stays.
    const unsignedURL = await nodeSamlSP(md).getLogoutUrlAsync(profile, 'bye-unsigned', {});
    assert.equal(new URL(unsignedURL).searchParams.get('Signature'), null);
    const refused = await browser.get(unsignedURL);
    assert.equal(refused.status, 400);
    assert.match(refused.body, /must be signed/);
    assert.equal((await browser.get('/app/UserHome')).status, 200, 'still signed in');

    const logoutURL = await sp.getLogoutUrlAsync(profile, 'bye-redirect', {});
    assert.ok(logoutURL.startsWith(md.slo['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'] + '?'));
    assert.ok(new URL(logoutURL).searchParams.get('Signature'), 'LogoutRequest query is signed');

    const resp = await browser.get(logoutURL);
    assert.equal(resp.status, 302);
    const back = new URL(resp.headers.get('location'));
    assert.equal(back.origin + back.pathname, SP_SLO);
    assert.ok(back.searchParams.get('Signature'), 'LogoutResponse query is signed');
    assert.equal(back.searchParams.get('SigAlg'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    assert.equal(back.searchParams.get('RelayState'), 'bye-redirect');

    const query = Object.fromEntries(back.searchParams);
    const result = await sp.validateRedirectAsync(query, back.search.slice(1));
    assert.equal(result.loggedOut, true);

    // A forged query signature is refused by node-saml.
    const forged = { ...query, Signature: Buffer.alloc(256, 7).toString('base64') };
    const fresh = nodeSamlSP(md, { validateInResponseTo: ValidateInResponseTo.never });
    await assert.rejects(fresh.validateRedirectAsync(forged, new URLSearchParams(forged).toString()), /signature/i);

    // The Gatehouse session is gone.
    const home = await browser.get('/app/UserHome');
    assert.equal(home.status, 302);
    assert.match(home.headers.get('location'), /^\/login\?/);
    assert.equal(browser.cookie('gh_sid'), undefined);
  });

  await t.test('HTTP-POST', async () => {
    const browser = new Browser(gh.baseURL);
    const profile = await signOnThroughSP(browser);
    // node-saml builds LogoutRequests for the Redirect binding only; the
    // same LogoutRequest is posted here as HTTP-POST would carry it, with
    // the enveloped signature node-saml's POST signing puts after Issuer.
    const logoutURL = new URL(await sp.getLogoutUrlAsync(profile, 'bye-post', {}));
    const unsignedRequest = inflateRawSync(Buffer.from(logoutURL.searchParams.get('SAMLRequest'), 'base64')).toString();
    const logoutRequest = signSamlPost(unsignedRequest, '/*[local-name(.)="LogoutRequest"]',
      { privateKey: spKey.key, signatureAlgorithm: 'sha256', digestAlgorithm: 'sha256' });
    const requestID = logoutRequest.match(/ID="([^"]+)"/)[1];
    const page = await browser.post(md.slo['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'],
      { SAMLRequest: Buffer.from(logoutRequest).toString('base64'), RelayState: 'bye-post' });
    const form = samlForm(page);
    assert.equal(form.action, SP_SLO);
    assert.equal(form.RelayState, 'bye-post');
    const xml = decode(form.SAMLResponse);
    assert.match(xml, /<[^>]*LogoutResponse[^>]*InResponseTo="/);
    assert.equal(xml.match(/LogoutResponse[^>]*InResponseTo="([^"]+)"/)[1], requestID);

    // node-saml's validatePostResponseAsync looks for InResponseTo on a
    // <Response> root only, so with validateInResponseTo "always" it refuses
    // every POSTed LogoutResponse as "InResponseTo is missing". The
    // InResponseTo is checked above; node-saml checks the signature and the
    // message type here.
    const postSP = nodeSamlSP(md, { validateInResponseTo: ValidateInResponseTo.never });
    const result = await postSP.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse, RelayState: form.RelayState });
    assert.equal(result.loggedOut, true);
    assert.equal(result.profile, null);
    // Tampering breaks the enveloped signature.
    await assert.rejects(postSP.validatePostResponseAsync({ SAMLResponse: tamper(form.SAMLResponse, requestID, requestID.slice(0, -1) + 'x') }),
      /signature/i);

    const home = await browser.get('/app/UserHome');
    assert.equal(home.status, 302);
    assert.match(home.headers.get('location'), /^\/login\?/);
  });
});

test('node-saml: ForceAuthn asks a signed-in person to sign in again; IsPassive without a session gets a signed NoPassive answer', async (t) => {
  const gh = await withGatehouse(t);
  const setup = await appWithUser(gh, 'Strict', 'fe@example.com');
  const md = parseIdPMetadata(setup.metadataXML);

  await t.test('ForceAuthn', async () => {
    const browser = new Browser(gh.baseURL);
    await browser.signIn(setup.login, PASSWORD);
    const sp = nodeSamlSP(md, { forceAuthn: true });
    const authURL = await sp.getAuthorizeUrlAsync('', undefined, {});
    const page = await browser.follow(await browser.get(authURL));
    assert.equal(page.url.pathname, '/login', 'a fresh sign-in is required despite the session');
    assert.equal(page.url.searchParams.get('prompt'), 'login');
    const before = Date.now();
    const form = samlForm(await browser.follow(await browser.submitSignIn(page, setup.login, PASSWORD)));
    const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    assert.equal(profile.nameID, setup.login);
    const authnInstant = Date.parse(decode(form.SAMLResponse).match(/AuthnInstant="([^"]+)"/)[1]);
    assert.ok(authnInstant >= before - 1000, 'AuthnInstant is the new sign-in');
  });

  await t.test('IsPassive', async () => {
    const browser = new Browser(gh.baseURL);
    const sp = nodeSamlSP(md, { passive: true });
    const page = await browser.follow(await browser.get(await sp.getAuthorizeUrlAsync('passive-state', undefined, {})));
    const form = samlForm(page);
    assert.equal(form.action, SP_ACS);
    assert.equal(form.RelayState, 'passive-state');
    assert.match(decode(form.SAMLResponse), /urn:oasis:names:tc:SAML:2\.0:status:NoPassive/);
    // node-saml accepts a signed NoPassive answer as "no profile".
    const result = await sp.validatePostResponseAsync({ SAMLResponse: form.SAMLResponse });
    assert.deepEqual(result, { profile: null, loggedOut: false });
  });
});
