// The SAML app every interop test starts from: an Okta-style custom SAML 2.0
// app for the service provider https://sp.example.test, with the same
// settings an administrator would enter (both signatures, SHA-256,
// emailAddress NameID from the username, three attribute statements).
export const SP_ENTITY_ID = 'https://sp.example.test/metadata';
export const SP_ACS = 'https://sp.example.test/acs';
export const SP_SLO = 'https://sp.example.test/slo';
export const SP_HOME = 'https://sp.example.test/home';
export const PASSWORD = 'Secret-Passw0rd-e2e';

const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const BASIC = 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';

/** settings.signOn for the test SP; extra is merged over it. */
export function signOn(extra = {}) {
  return {
    ssoAcsUrl: SP_ACS,
    recipient: SP_ACS,
    destination: SP_ACS,
    audience: SP_ENTITY_ID,
    subjectNameIdTemplate: '${user.userName}',
    subjectNameIdFormat: EMAIL,
    responseSigned: true,
    assertionSigned: true,
    signatureAlgorithm: 'RSA_SHA256',
    digestAlgorithm: 'SHA256',
    honorForceAuthn: true,
    authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
    defaultRelayState: SP_HOME,
    attributeStatements: [
      { type: 'EXPRESSION', name: 'email', namespace: BASIC, values: ['user.email'] },
      { type: 'EXPRESSION', name: 'displayName', namespace: BASIC, values: ['user.firstName + " " + user.lastName'] },
      { type: 'GROUP', name: 'groups', namespace: BASIC, filterType: 'STARTS_WITH', filterValue: 'sp-' },
    ],
    ...extra,
  };
}

/**
 * Sets up one app with one assigned user (in group sp-editors); returns
 * {app, user, login, metadataXML}.
 */
export async function appWithUser(gh, label, login, extra) {
  const app = await gh.createSAMLApp(label, signOn(extra));
  const user = await gh.createUser(login, PASSWORD);
  const group = await gh.createGroup(`sp-editors-${label.replace(/\W/g, '').toLowerCase()}`);
  await gh.addToGroup(group.id, user.id);
  await gh.assign(app.id, user.id);
  return { app, user, login, group: group.profile.name, metadataXML: await gh.metadata(app.id) };
}
