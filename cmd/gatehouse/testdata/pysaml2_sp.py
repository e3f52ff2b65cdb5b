"""A service provider built on PySAML2 (Debian's python3-pysaml2, which
signs, verifies and decrypts with the xmlsec1 command), driven by
cmd/gatehouse/peers_test.go.

It runs for the whole test and answers one JSON command per line on stdin
with one JSON line on stdout (the peer_sp protocol shared with
lasso_sp.py):

  {"op": "init", "metadata_url": ..., "sp_entity_id": ..., "acs": ..., "sls": ...,
   "key": <PEM file>, "cert": <PEM file>, "enc_key": <PEM file>, "enc_cert": <PEM file>}
      -> {"idp": <IdP entity ID from the metadata>, "want_authn_requests_signed": bool}
  {"op": "login", "binding": "redirect"|"post", "sign": bool, "relay_state": ...,
   "is_passive": bool, "authn_context": <class ref, requested exactly>}
      -> {"request_id": ..., "url": <redirect URL>} or
         {"request_id": ..., "action": <POST URL>, "form": {"SAMLRequest": ..., "RelayState": ...}}
  {"op": "acs", "SAMLResponse": ..., "RelayState": ...}
      -> {"authenticated": true, "nameid": ..., "nameid_format": ..., "attributes": {...},
          "session_index": ..., "in_response_to": ..., "issuer": ..., "authn_contexts": [...],
          "encrypted": <an EncryptedAssertion arrived>, "logged_in": bool}
         or {"error": ..., and for an error status "status_error" (PySAML2) or
             "status", "sub_status", "in_response_to" (Lasso)}
  {"op": "logout", "binding": "redirect"|"post", "sign": bool}
      -> {"request_id": ..., "url": <LogoutRequest redirect URL>} or {"request_id": ..., "action": ..., "form": {...}}
  {"op": "sls", "query": {"SAMLResponse": ..., "SigAlg": ..., "Signature": ..., ...}, "raw_query": ...}
   or {"op": "sls", "post": {"SAMLResponse": ...}}
      -> {"status": <StatusCode>, "signature_verified": true, "in_response_to": ..., "logged_in": bool}
         or {"error": ..., "signature_verified": false}

The IdP's metadata is fetched by PySAML2 itself from the public metadata URL
(metadata "remote"). Responses must have a signed assertion and a signed
Response (want_assertions_signed, want_response_signed); solicited responses
must answer an outstanding request of this process (InResponseTo), and
unsolicited ones are allowed (IdP-initiated).
"""
import base64
from html.parser import HTMLParser

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.response import StatusError
from saml2.samlp import RequestedAuthnContext
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, AuthnContextClassRef
from saml2.sigver import verify_redirect_signature

import sp_protocol

SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


class Form(HTMLParser):
    """The action and fields of an HTML form."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


class SP:
    def __init__(self, c):
        self.sp_entity_id = c["sp_entity_id"]
        conf = SPConfig()
        conf.load({
            "entityid": c["sp_entity_id"],
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": c["key"],
            "cert_file": c["cert"],
            "encryption_keypairs": [{"key_file": c["enc_key"], "cert_file": c["enc_cert"]}],
            "metadata": {"remote": [{"url": c["metadata_url"]}]},
            "allow_unknown_attributes": True,
            "service": {"sp": {
                "endpoints": {
                    "assertion_consumer_service": [(c["acs"], BINDING_HTTP_POST)],
                    "single_logout_service": [(c["sls"], BINDING_HTTP_REDIRECT), (c["sls"], BINDING_HTTP_POST)],
                },
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                "want_response_signed": True,
                "want_assertions_signed": True,
                "allow_unsolicited": True,
                "logout_requests_signed": True,
                "signing_algorithm": SHA256,
                "digest_algorithm": DIGEST_SHA256,
            }},
        })
        self.client = Saml2Client(conf)
        idps = list(self.client.metadata.identity_providers())
        if len(idps) != 1:
            raise SystemExit("expected one IdP in the metadata, got %r" % idps)
        self.idp = idps[0]
        self.outstanding = {}
        self.name_id = None

    def init_answer(self):
        sso = self.client.metadata.service(self.idp, "idpsso_descriptor", "single_sign_on_service")
        desc = self.client.metadata[self.idp]["idpsso_descriptor"][0]
        return {"idp": self.idp, "sso_bindings": sorted(sso.keys()),
                "want_authn_requests_signed": desc.get("want_authn_requests_signed") == "true"}

    def login(self, c):
        binding = BINDING_HTTP_POST if c["binding"] == "post" else BINDING_HTTP_REDIRECT
        extra = {"is_passive": "true"} if c.get("is_passive") else {}
        if c.get("authn_context"):
            extra["requested_authn_context"] = RequestedAuthnContext(
                authn_context_class_ref=[AuthnContextClassRef(text=c["authn_context"])], comparison="exact")
        req_id, _, info = self.client.prepare_for_negotiated_authenticate(
            entityid=self.idp, relay_state=c.get("relay_state", ""), binding=binding,
            sign=c["sign"], sigalg=SHA256 if c["sign"] else None,
            digest_alg=DIGEST_SHA256 if c["sign"] else None,
            nameid_format=NAMEID_FORMAT_EMAILADDRESS, **extra)
        self.outstanding[req_id] = c.get("relay_state", "")
        if binding == BINDING_HTTP_REDIRECT:
            return {"request_id": req_id, "url": dict(info["headers"])["Location"]}
        # PySAML2 gives an auto-submitting HTML form; the test's browser
        # posts its fields to its action.
        f = Form()
        f.feed(info["data"])
        return {"request_id": req_id, "action": f.action, "form": f.fields}

    def acs(self, c):
        # What arrived: PySAML2 replaces an EncryptedAssertion by the
        # decrypted Assertion while it parses.
        arrived = samlp.response_from_string(base64.b64decode(c["SAMLResponse"]))
        encrypted = len(arrived.encrypted_assertion) == 1 and not arrived.assertion
        try:
            resp = self.client.parse_authn_request_response(
                c["SAMLResponse"], BINDING_HTTP_POST, outstanding=self.outstanding,
                outstanding_certs=None)
        except StatusError as e:
            # A signed error Response: PySAML2 raises the StatusError
            # subclass of its second-level status (StatusNoPassive, ...).
            return {"error": "%s: %s" % (type(e).__name__, e), "status_error": type(e).__name__}
        if resp is None:
            return {"error": "PySAML2 did not accept the response"}
        info = resp.session_info()
        irt = resp.in_response_to
        if irt:
            self.outstanding.pop(irt, None)
        self.name_id = resp.name_id
        contexts = [ac[0] for ac in resp.authn_info()] if hasattr(resp, "authn_info") else []
        return {
            "authenticated": True,
            "nameid": resp.name_id.text,
            "nameid_format": resp.name_id.format,
            "attributes": resp.ava,
            "session_index": info.get("session_index"),
            "in_response_to": irt or "",
            "issuer": resp.issuer(),
            "authn_contexts": contexts,
            "encrypted": encrypted,
            "logged_in": self.client.is_logged_in(resp.name_id),
        }

    def logout(self, c):
        binding = BINDING_HTTP_POST if c.get("binding") == "post" else BINDING_HTTP_REDIRECT
        res = self.client.do_logout(self.name_id, [self.idp], reason="", expire=None, sign=c.get("sign", True),
                                    sign_alg=SHA256, digest_alg=DIGEST_SHA256, expected_binding=binding)
        got, info = res[self.idp]
        if got != binding:
            raise SystemExit("logout over %s" % got)
        req_id = [k for k, v in self.client.state.items() if isinstance(v, dict) and v.get("operation") == "SLO"][-1]
        if binding == BINDING_HTTP_REDIRECT:
            return {"request_id": req_id, "url": dict(info["headers"])["Location"]}
        f = Form()
        f.feed(info["data"])
        return {"request_id": req_id, "action": f.action, "form": f.fields}

    def sls(self, c):
        if "post" in c:
            # HTTP-POST: the LogoutResponse carries an enveloped XML
            # signature, which PySAML2 verifies with the IdP's metadata
            # certificates (must=True: an unsigned one is refused too).
            binding, msg = BINDING_HTTP_POST, c["post"]["SAMLResponse"]
            try:
                self.client.sec.correctly_signed_logout_response(base64.b64decode(msg).decode("utf-8"), must=True)
            except Exception as e:
                return {"error": "the LogoutResponse signature does not verify: %s" % e, "signature_verified": False}
        else:
            # HTTP-Redirect: the signature is in the query (Bindings
            # 3.4.4.1); PySAML2 leaves checking it to the SP
            # (sigver.verify_redirect_signature), with the IdP's signing
            # certificates from the metadata.
            binding, q = BINDING_HTTP_REDIRECT, c["query"]
            msg = q["SAMLResponse"]
            certs = self.client.metadata.certs(self.idp, "idpsso", use="signing")
            if not any(verify_redirect_signature(q, self.client.sec.sec_backend, cert=cert) for cert in certs):
                return {"error": "the LogoutResponse signature does not verify", "signature_verified": False}
        resp = self.client.parse_logout_request_response(msg, binding)
        if resp is None:
            return {"error": "PySAML2 did not accept the LogoutResponse"}
        status = resp.response.status.status_code.value
        self.client.handle_logout_response(resp)
        return {"status": status, "signature_verified": True, "in_response_to": resp.in_response_to,
                "logged_in": self.client.is_logged_in(self.name_id)}


if __name__ == "__main__":
    sp_protocol.serve(SP)
