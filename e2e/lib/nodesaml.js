// node-saml (@node-saml/node-saml) configured as the test SP against one
// Gatehouse app, trusting only what the app's IdP metadata publishes.
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { REDIRECT } from './metadata.js';
import { SP_ACS, SP_ENTITY_ID } from './fixtures.js';

/**
 * @param {ReturnType<import('./metadata.js').parseIdPMetadata>} md
 * @param {Partial<import('@node-saml/node-saml').SamlConfig>} [extra]
 */
export function nodeSamlSP(md, extra = {}) {
  return new SAML({
    entryPoint: md.sso[REDIRECT],
    logoutUrl: md.slo[REDIRECT],
    issuer: SP_ENTITY_ID,
    callbackUrl: SP_ACS,
    audience: SP_ENTITY_ID,
    idpIssuer: md.entityID,
    idpCert: md.certs,
    // Insist on what Gatehouse is configured to send: both signatures.
    wantAuthnResponseSigned: true,
    wantAssertionsSigned: true,
    validateInResponseTo: ValidateInResponseTo.always,
    // Gatehouse refuses rsa-sha1 unless an app is marked legacy; node-saml
    // would otherwise sign requests with SHA-1 by default.
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    ...extra,
  });
}
