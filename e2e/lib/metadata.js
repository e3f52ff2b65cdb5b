// Reads what an SP needs from Gatehouse's IdP metadata with a namespace-aware
// XML parser and XPath: entity ID, signing certificates, SSO and SLO URLs.
import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';

const select = xpath.useNamespaces({
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
});

export const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
export const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

/**
 * @returns {{entityID: string, certs: string[], sso: Record<string,string>,
 *   slo: Record<string,string>, wantAuthnRequestsSigned: boolean, nameIDFormats: string[]}}
 */
export function parseIdPMetadata(xml) {
  const errors = [];
  const doc = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') errors.push(msg); } })
    .parseFromString(xml, 'text/xml');
  if (errors.length) throw new Error(`metadata is not well-formed XML: ${errors.join('; ')}`);
  const ed = select('/md:EntityDescriptor', doc)[0];
  if (!ed) throw new Error('metadata has no md:EntityDescriptor root');
  const idp = select('md:IDPSSODescriptor', ed)[0];
  if (!idp) throw new Error('metadata has no md:IDPSSODescriptor');
  const endpoints = (name) => Object.fromEntries(
    select(`md:${name}`, idp).map((e) => [e.getAttribute('Binding'), e.getAttribute('Location')]));
  return {
    entityID: ed.getAttribute('entityID'),
    certs: select('md:KeyDescriptor[not(@use) or @use="signing"]/ds:KeyInfo/ds:X509Data/ds:X509Certificate', idp)
      .map((n) => n.textContent.replace(/\s+/g, '')),
    sso: endpoints('SingleSignOnService'),
    slo: endpoints('SingleLogoutService'),
    wantAuthnRequestsSigned: idp.getAttribute('WantAuthnRequestsSigned') === 'true',
    nameIDFormats: select('md:NameIDFormat', idp).map((n) => n.textContent.trim()),
  };
}
