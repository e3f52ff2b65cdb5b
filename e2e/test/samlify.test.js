// samlify as the service provider: the IdP is built from Gatehouse's
// published metadata alone; SP-initiated sign-on over HTTP-Redirect and
// HTTP-POST, IdP-initiated sign-on, an encrypted assertion and single logout,
// with every response schema-validated (xmllint compiled to WebAssembly,
// against the SAML 2.0 protocol XSD) before samlify trusts it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateRawSync } from 'node:zlib';

import * as samlify from 'samlify';
import * as xsdValidator from '@authenio/samlify-xmllint-wasm';
import { Gatehouse } from '../lib/gatehouse.js';
import { Browser, samlForm, spInitiatedSignIn } from '../lib/browser.js';
import { appWithUser, PASSWORD, SP_ACS, SP_ENTITY_ID, SP_HOME, SP_SLO } from '../lib/fixtures.js';
import { makeSPKeyPair } from '../lib/spkeys.js';

samlify.setSchemaValidator(xsdValidator);

const { binding, format } = samlify.Constants.namespace;

async function withGatehouse(t) {
  const gh = await Gatehouse.start();
  t.after(() => gh.stop());
  return gh;
}

function serviceProvider(extra = {}) {
  return samlify.ServiceProvider({
    entityID: SP_ENTITY_ID,
    assertionConsumerService: [{ Binding: binding.post, Location: SP_ACS }],
    singleLogoutService: [{ Binding: binding.redirect, Location: SP_SLO }],
    nameIDFormat: [format.emailAddress],
    wantAssertionsSigned: true,
    wantMessageSigned: true,
    ...extra,
  });
}

function decode(b64) {
  return Buffer.from(b64, 'base64').toString('utf8');
}

/** The checks samlify leaves to its caller: audience, recipient, InResponseTo. */
function assertForThisSP(extract, inResponseTo) {
  assert.equal(extract.audience, SP_ENTITY_ID);
  assert.equal(extract.response.destination, SP_ACS);
  assert.equal(extract.response.inResponseTo, inResponseTo);
}

test('samlify: IdP from Gatehouse metadata; SP-initiated HTTP-Redirect sign-on is accepted', async (t) => {
  const gh = await withGatehouse(t);
  const setup = await appWithUser(gh, 'Tracker', 'fay@example.com');
  const idp = samlify.IdentityProvider({ metadata: setup.metadataXML });
  const sp = serviceProvider();

  const { id, context } = sp.createLoginRequest(idp, 'redirect', { relayState: 'samlify-state' });
  const sent = new URL(context);
  assert.equal(sent.origin + sent.pathname, idp.entityMeta.getSingleSignOnService('redirect'));
  const authnRequest = inflateRawSync(Buffer.from(sent.searchParams.get('SAMLRequest'), 'base64')).toString();
  assert.match(authnRequest, new RegExp(`ID="${id}"`));

  const browser = new Browser(gh.baseURL);
  const { form } = await spInitiatedSignIn(browser, context, setup.login, PASSWORD);
  assert.equal(form.action, SP_ACS);
  assert.equal(form.RelayState, 'samlify-state');

  const { extract } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: form.SAMLResponse, RelayState: form.RelayState } });
  assertForThisSP(extract, id);
  assert.equal(extract.issuer, idp.entityMeta.getEntityID());
  assert.equal(extract.nameID, 'fay@example.com');
  assert.equal(extract.attributes.email, 'fay@example.com');
  assert.equal(extract.attributes.displayName, 'Pat Doe');
  assert.equal(extract.attributes.groups, setup.group);
  assert.ok(extract.sessionIndex.sessionIndex);

  // A tampered response is refused.
  const forged = Buffer.from(decode(form.SAMLResponse).replace('>fay@example.com<', '>fax@example.com<')).toString('base64');
  await assert.rejects(sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: forged } }), /FAILED_TO_VERIFY_SIGNATURE|signature/i);
});

test('samlify: SP-initiated HTTP-POST sign-on is accepted', async (t) => {
  const gh = await withGatehouse(t);
  const setup = await appWithUser(gh, 'Board', 'gus@example.com');
  const idp = samlify.IdentityProvider({ metadata: setup.metadataXML });
  const sp = serviceProvider();

  const browser = new Browser(gh.baseURL);
  await browser.signIn(setup.login, PASSWORD);
  const req = sp.createLoginRequest(idp, 'post', { relayState: 'post-state' });
  assert.equal(req.type, 'SAMLRequest');
  assert.equal(req.entityEndpoint, idp.entityMeta.getSingleSignOnService('post'));
  // The browser posts the SP's form to Gatehouse, as its auto-submit would.
  const page = await browser.follow(await browser.post(req.entityEndpoint, { SAMLRequest: req.context, RelayState: req.relayState }));
  const form = samlForm(page);
  assert.equal(form.RelayState, 'post-state');
  const { extract } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: form.SAMLResponse } });
  assertForThisSP(extract, req.id);
  assert.equal(extract.nameID, 'gus@example.com');
});

test('samlify: IdP-initiated sign-on from the app link is accepted', async (t) => {
  const gh = await withGatehouse(t);
  const setup = await appWithUser(gh, 'Desk', 'hal@example.com');
  const idp = samlify.IdentityProvider({ metadata: setup.metadataXML });
  const sp = serviceProvider();

  const browser = new Browser(gh.baseURL);
  await browser.signIn(setup.login, PASSWORD);
  const form = samlForm(await browser.get(setup.app._links.appLinks[0].href));
  assert.equal(form.RelayState, SP_HOME);
  const { extract } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: form.SAMLResponse, RelayState: form.RelayState } });
  assertForThisSP(extract, undefined);
  assert.equal(extract.nameID, 'hal@example.com');
  assert.equal(extract.attributes.groups, setup.group);
});

test('samlify: encrypted assertion (AES-256-GCM, RSA-OAEP) is decrypted and accepted', async (t) => {
  const gh = await withGatehouse(t);
  const spKey = await makeSPKeyPair();
  const setup = await appWithUser(gh, 'Vault', 'ida@example.com', {
    assertionEncryption: { enabled: true, encryptionAlgorithm: 'AES256_GCM', keyTransportAlgorithm: 'RSA_OAEP', x5c: [spKey.x5c] },
  });
  const idp = samlify.IdentityProvider({ metadata: setup.metadataXML, isAssertionEncrypted: true });
  const sp = serviceProvider({ encPrivateKey: spKey.key, encryptCert: spKey.cert });

  const browser = new Browser(gh.baseURL);
  const { id, context } = sp.createLoginRequest(idp, 'redirect');
  const { form } = await spInitiatedSignIn(browser, context, setup.login, PASSWORD);
  assert.match(decode(form.SAMLResponse), /EncryptedAssertion/);
  const { extract } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: form.SAMLResponse } });
  assertForThisSP(extract, id);
  assert.equal(extract.nameID, 'ida@example.com');
  assert.equal(extract.attributes.email, 'ida@example.com');
});

test('samlify: single logout over HTTP-Redirect returns a signed LogoutResponse and ends the session', async (t) => {
  const gh = await withGatehouse(t);
  // Single logout needs the SP's signing certificate: LogoutRequests must
  // be signed (SAML Profiles 4.4.4.1). samlify signs them when the IdP's
  // settings ask for it (wantLogoutRequestSigned).
  const spKey = await makeSPKeyPair();
  const setup = await appWithUser(gh, 'Exit', 'jo@example.com', {
    spCertificate: { x5c: [spKey.x5c] }, slo: { enabled: true, logoutUrl: SP_SLO },
  });
  const idp = samlify.IdentityProvider({ metadata: setup.metadataXML, wantLogoutResponseSigned: true, wantLogoutRequestSigned: true });
  const sp = serviceProvider({ wantLogoutResponseSigned: true, privateKey: spKey.key, signingCert: spKey.cert });

  const browser = new Browser(gh.baseURL);
  const { context } = sp.createLoginRequest(idp, 'redirect');
  const { form } = await spInitiatedSignIn(browser, context, setup.login, PASSWORD);
  const { extract } = await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: form.SAMLResponse } });

  const logout = sp.createLogoutRequest(idp, 'redirect', {
    logoutNameID: extract.nameID,
    sessionIndex: extract.sessionIndex.sessionIndex,
  }, { relayState: 'samlify-bye' });
  const logoutRequest = inflateRawSync(Buffer.from(new URL(logout.context).searchParams.get('SAMLRequest'), 'base64')).toString();
  assert.equal(new URL(logout.context).searchParams.get('SigAlg'), 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  const resp = await browser.get(logout.context);
  assert.equal(resp.status, 302);
  const back = new URL(resp.headers.get('location'));
  assert.equal(back.origin + back.pathname, SP_SLO);
  assert.ok(back.searchParams.get('Signature'));

  // The signed octets are the parameters exactly as received (SAML
  // Bindings 3.4.4.1), in the order SAMLResponse, RelayState, SigAlg.
  const raw = Object.fromEntries(back.search.slice(1).split('&').map((kv) => kv.split('=')).map(([k, v]) => [k, v]));
  const octetString = ['SAMLResponse', 'RelayState', 'SigAlg'].filter((k) => raw[k] !== undefined).map((k) => `${k}=${raw[k]}`).join('&');
  const parsed = await sp.parseLogoutResponse(idp, 'redirect', { query: Object.fromEntries(back.searchParams), octetString });
  assert.equal(parsed.extract.response.inResponseTo, logoutRequest.match(/ID="([^"]+)"/)[1]);
  assert.equal(parsed.extract.issuer, idp.entityMeta.getEntityID());

  const home = await browser.get('/app/UserHome');
  assert.equal(home.status, 302);
  assert.match(home.headers.get('location'), /^\/login\?/);
});

test('samlify: Gatehouse metadata parses with the published endpoints and certificate', async (t) => {
  const gh = await withGatehouse(t);
  const spKey = await makeSPKeyPair();
  const setup = await appWithUser(gh, 'Meta', 'kai@example.com', {
    spCertificate: { x5c: [spKey.x5c] }, slo: { enabled: true, logoutUrl: SP_SLO },
  });
  // The public metadata URL (no token) and the admin API one agree.
  const ssoURL = new URL(samlify.IdentityProvider({ metadata: setup.metadataXML }).entityMeta.getSingleSignOnService('redirect'));
  const externalKey = ssoURL.pathname.split('/')[3];
  const pub = await fetch(`${gh.baseURL}/app/${externalKey}/sso/saml/metadata`);
  assert.equal(pub.status, 200);
  assert.match(pub.headers.get('content-type'), /^application\/xml/);
  const publicXML = await pub.text();
  assert.equal(publicXML, setup.metadataXML);

  const idp = samlify.IdentityProvider({ metadata: publicXML });
  const meta = idp.entityMeta;
  // The issuer is Gatehouse's base URL and the app's external key.
  assert.equal(meta.getEntityID(), `${gh.baseURL}/${externalKey}`);
  for (const b of ['redirect', 'post']) {
    assert.equal(meta.getSingleSignOnService(b), `${gh.baseURL}/app/${setup.app.name}/${externalKey}/sso/saml`);
  }
  const slo = [meta.getSingleLogoutService('redirect'), meta.getSingleLogoutService('post')];
  assert.deepEqual(slo, Array(2).fill(`${gh.baseURL}/app/${setup.app.name}/${externalKey}/slo/saml`));
  assert.equal(meta.isWantAuthnRequestsSigned(), false);
  assert.ok([].concat(meta.getNameIDFormat()).includes(format.emailAddress));

  // The signing certificate is the app's active key (credentials.signing.kid
  // is the base64url SHA-256 of the certificate DER).
  const cert = [].concat(meta.getX509Certificate('signing')).flat()[0];
  const { createHash, X509Certificate } = await import('node:crypto');
  const der = Buffer.from(cert.replace(/\s+/g, ''), 'base64');
  new X509Certificate(der); // parses as X.509
  assert.equal(createHash('sha256').update(der).digest('base64url'), setup.app.credentials.signing.kid);
});
