"""A service provider built on Lasso (Debian's python3-lasso, the C library
behind Apache mod_auth_mellon), driven by cmd/gatehouse/peers_test.go.

It speaks the same line protocol as pysaml2_sp.py (one JSON command per
line on stdin, one JSON answer per line on stdout): init, login, acs,
logout, sls. See that file for the commands and answers.

The IdP is added from the public metadata URL (fetched here, given to
lasso_server_add_provider_from_buffer). Lasso checks the signatures
(verify hint FORCE: the Response's or the assertion's, and the query
signature of a Redirect LogoutResponse) and decrypts EncryptedAssertion
with the SP's encryption key; like mod_auth_mellon around it, this SP then
checks the assertion's subject confirmation (bearer, Recipient = its ACS,
NotOnOrAfter, InResponseTo = an outstanding request of this process, absent
for IdP-initiated) and conditions (NotBefore/NotOnOrAfter, Audience = its
entity ID) itself, as Lasso leaves those to the SP.
"""
import base64
import datetime
import urllib.request
import xml.etree.ElementTree as ET
import zlib

import lasso

import sp_protocol

NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion", "samlp": "urn:oasis:names:tc:SAML:2.0:protocol"}
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"


def sp_metadata(c, cert_pem, enc_pem):
    def body(pem):
        return "".join(l for l in pem.splitlines() if "-----" not in l)

    return """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%(entity)s">
 <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%(sign)s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%(enc)s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%(sls)s"/>
  <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%(sls)s"/>
  <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
  <md:AssertionConsumerService index="0" isDefault="true" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="%(acs)s"/>
 </md:SPSSODescriptor>
</md:EntityDescriptor>""" % {"entity": c["sp_entity_id"], "sign": body(cert_pem), "enc": body(enc_pem), "sls": c["sls"], "acs": c["acs"]}


def parse_time(s):
    return datetime.datetime.strptime(s.split(".")[0].rstrip("Z"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)


class SP:
    def __init__(self, c):
        self.c = c
        key, cert = open(c["key"]).read(), open(c["cert"]).read()
        enc_key, enc_cert = open(c["enc_key"]).read(), open(c["enc_cert"]).read()
        self.server = lasso.Server.newFromBuffers(sp_metadata(c, cert, enc_cert), key, None, cert)
        self.server.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
        self.server.setEncryptionPrivateKey(enc_key)
        with urllib.request.urlopen(c["metadata_url"], timeout=10) as r:
            self.idp_metadata = r.read().decode("utf-8")
        self.server.addProviderFromBuffer(lasso.PROVIDER_ROLE_IDP, self.idp_metadata)
        self.idp = list(self.server.providerIds)[0]
        self.outstanding = {}
        self.session_dump = None
        self.logouts = {}

    def init_answer(self):
        root = ET.fromstring(self.idp_metadata)
        desc = root.find("{urn:oasis:names:tc:SAML:2.0:metadata}IDPSSODescriptor")
        return {"idp": self.idp, "want_authn_requests_signed": desc.get("WantAuthnRequestsSigned") == "true"}

    def login(self, c):
        login = lasso.Login(self.server)
        method = lasso.HTTP_METHOD_POST if c["binding"] == "post" else lasso.HTTP_METHOD_REDIRECT
        login.initAuthnRequest(self.idp, method)
        req = login.request
        req.nameIdPolicy.format = lasso.SAML2_NAME_IDENTIFIER_FORMAT_EMAIL
        # As mod_auth_mellon builds it: its ACS URL (no ProtocolBinding),
        # AllowCreate, implicit consent, IsPassive on demand, and an exact
        # RequestedAuthnContext when configured (MellonAuthnContextClassRef).
        req.nameIdPolicy.allowCreate = True
        req.assertionConsumerServiceURL = self.c["acs"]
        req.consent = lasso.SAML2_CONSENT_IMPLICIT
        req.isPassive = bool(c.get("is_passive"))
        if c.get("authn_context"):
            rac = lasso.Samlp2RequestedAuthnContext()
            rac.authnContextClassRef = (c["authn_context"],)
            rac.comparison = "exact"
            req.requestedAuthnContext = rac
        login.setSignatureHint(lasso.PROFILE_SIGNATURE_HINT_FORCE if c["sign"] else lasso.PROFILE_SIGNATURE_HINT_FORBID)
        if c.get("relay_state"):
            login.msgRelayState = c["relay_state"]
        login.buildAuthnRequestMsg()
        self.outstanding[req.iD] = True
        if method == lasso.HTTP_METHOD_REDIRECT:
            return {"request_id": req.iD, "url": login.msgUrl}
        form = {"SAMLRequest": login.msgBody}
        if c.get("relay_state"):
            form["RelayState"] = c["relay_state"]
        return {"request_id": req.iD, "action": login.msgUrl, "form": form}

    def acs(self, c):
        arrived = ET.fromstring(base64.b64decode(c["SAMLResponse"]))
        encrypted = arrived.find("saml:EncryptedAssertion", NS) is not None and arrived.find("saml:Assertion", NS) is None
        login = lasso.Login(self.server)
        login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
        try:
            login.processAuthnResponseMsg(c["SAMLResponse"])
        except lasso.Error as e:
            out = {"error": "Lasso refused the response: %s" % e}
            st = login.response and login.response.status
            if isinstance(e, (lasso.LoginStatusNotSuccessError, lasso.ProfileStatusNotSuccessError)) and st is not None:
                out["status"] = st.statusCode.value
                out["sub_status"] = st.statusCode.statusCode.value if st.statusCode.statusCode else None
                out["in_response_to"] = login.response.inResponseTo
            return out
        a = login.assertion
        if a is None:
            return {"error": "no assertion"}
        now = datetime.datetime.now(datetime.timezone.utc)
        skew = datetime.timedelta(seconds=60)
        irt = ""
        confirmed = False
        sc = a.subject.subjectConfirmation  # SAML 2.0 allows several; Lasso keeps one, as mellon reads it
        d = sc.subjectConfirmationData if sc is not None else None
        if sc is not None and sc.method == BEARER and d is not None and d.recipient == self.c["acs"] \
                and d.notOnOrAfter is not None and now < parse_time(d.notOnOrAfter) + skew:
            irt = d.inResponseTo or ""
            confirmed = True
        if not confirmed:
            return {"error": "no bearer SubjectConfirmation for this ACS"}
        if irt and irt not in self.outstanding:
            return {"error": "InResponseTo %s answers no outstanding request" % irt}
        if login.response.inResponseTo != (irt or None):
            return {"error": "Response InResponseTo %r differs from the assertion's %r" % (login.response.inResponseTo, irt)}
        cond = a.conditions
        if cond is None or now < parse_time(cond.notBefore) - skew or now >= parse_time(cond.notOnOrAfter) + skew:
            return {"error": "outside the assertion's conditions"}
        if not any(self.c["sp_entity_id"] in ar.audience for ar in cond.audienceRestriction):
            return {"error": "not in the audience"}
        try:
            login.acceptSso()
        except lasso.Error as e:
            return {"error": "Lasso refused the assertion: %s" % e}
        self.outstanding.pop(irt, None)
        attrs = {}
        for st in a.attributeStatement:
            for at in st.attribute:
                vals = attrs.setdefault(at.name, [])
                for v in at.attributeValue:
                    for node in v.any:
                        if isinstance(node, lasso.MiscTextNode):
                            vals.append(node.content)
        self.session_dump = login.session.dump()
        nid = login.nameIdentifier
        return {
            "authenticated": True,
            "nameid": nid.content,
            "nameid_format": nid.format,
            "attributes": attrs,
            "session_index": a.authnStatement[0].sessionIndex,
            "in_response_to": irt,
            "issuer": login.remoteProviderId,
            "authn_contexts": [a.authnStatement[0].authnContext.authnContextClassRef],
            "encrypted": encrypted,
            "logged_in": not login.session.isEmpty(),
        }

    def logout(self, c):
        logout = lasso.Logout(self.server)
        logout.setSessionFromDump(self.session_dump)
        method = lasso.HTTP_METHOD_POST if c.get("binding") == "post" else lasso.HTTP_METHOD_REDIRECT
        logout.initRequest(self.idp, method)
        logout.setSignatureHint(lasso.PROFILE_SIGNATURE_HINT_FORCE)
        logout.buildRequestMsg()
        self.logouts[logout.request.iD] = logout
        if method == lasso.HTTP_METHOD_REDIRECT:
            url = logout.msgUrl
            if not c.get("sign", True):
                # Lasso signs every LogoutRequest it builds with the SP's
                # key; the unsigned one is Lasso's with SigAlg and Signature
                # taken off, as a forger would send it.
                base, _, query = url.partition("?")
                url = base + "?" + "&".join(p for p in query.split("&") if not p.startswith(("SigAlg=", "Signature=")))
            return {"request_id": logout.request.iD, "url": url}
        return {"request_id": logout.request.iD, "action": logout.msgUrl, "form": {"SAMLRequest": logout.msgBody}}

    def sls(self, c):
        if "post" in c:
            msg = c["post"]["SAMLResponse"]
            xml = base64.b64decode(msg)
        else:
            msg = c["raw_query"]  # the signature covers the parameters as encoded
            xml = zlib.decompress(base64.b64decode(c["query"]["SAMLResponse"]), -15)
        irt = ET.fromstring(xml).get("InResponseTo")
        if irt not in self.logouts:
            return {"error": "answers no outstanding LogoutRequest"}
        logout = self.logouts[irt]
        logout.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
        try:
            logout.processResponseMsg(msg)
        except lasso.Error as e:
            return {"error": "Lasso refused the LogoutResponse: %s" % e, "signature_verified": False}
        del self.logouts[irt]
        status = logout.response.status.statusCode.value
        if status != lasso.SAML2_STATUS_CODE_SUCCESS:
            return {"error": "logout status %s" % status}
        # Lasso accepted a verified Success answer to this SP's request: the
        # SP ends its own session (as mod_auth_mellon does after
        # lasso_logout_process_response_msg).
        self.session_dump = None
        return {"status": status, "signature_verified": True, "in_response_to": logout.response.inResponseTo,
                "logged_in": self.session_dump is not None}


if __name__ == "__main__":
    sp_protocol.serve(SP)
