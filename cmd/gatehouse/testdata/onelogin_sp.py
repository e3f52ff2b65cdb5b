"""A service provider built on OneLogin's python3-saml toolkit (Debian's
python3-onelogin-saml2), driven by cmd/gatehouse/onelogin_test.go.

It reads one JSON command on stdin and prints one JSON answer:

  {"op": "login", "settings": {...}, "force_authn": false}
      -> {"url": <AuthnRequest redirect URL>, "request_id": ...}
  {"op": "acs", "settings": {...}, "request_id": ..., "post": {"SAMLResponse": ..., "RelayState": ...}}
      -> {"errors": [...], "reason": ..., "authenticated": ..., "nameid": ..., "nameid_format": ...,
          "attributes": {...}, "session_index": ..., "authn_contexts": [...]}
  {"op": "logout", "settings": {...}, "name_id": ..., "session_index": ..., "sign": bool}
      -> {"url": <LogoutRequest redirect URL>, "request_id": ...}
  {"op": "sls", "settings": {...}, "request_id": ..., "get": {"SAMLResponse": ..., "Signature": ..., ...}}
      -> {"errors": [...], "reason": ...}

"settings" carries the IdP metadata XML (parsed by the toolkit's own
metadata parser), the SP's entity ID, ACS and SLS URLs, and its signing key
and certificate (PEM), with which it signs LogoutRequests when "sign" is
set (security.logoutRequestSigned, off by default in the toolkit). The toolkit runs
in strict mode: it validates the schema, Destination, Recipient, audience,
InResponseTo, time conditions and the signatures it is told to require.
"""
import json
import sys
from urllib.parse import urlparse

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser


def build_settings(s):
    idp = OneLogin_Saml2_IdPMetadataParser.parse(s["idp_metadata"])
    settings = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": s["sp_entity_id"],
            "assertionConsumerService": {
                "url": s["acs"],
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            },
            "singleLogoutService": {
                "url": s["sls"],
                "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            },
            "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "x509cert": s.get("sp_cert", ""),
            "privateKey": s.get("sp_key", ""),
        },
        "security": {
            "logoutRequestSigned": s.get("logout_request_signed", False),
            "wantAssertionsSigned": s.get("want_assertions_signed", True),
            "wantMessagesSigned": s.get("want_messages_signed", True),
            "wantNameId": True,
            "requestedAuthnContext": False,
            "signatureAlgorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            "digestAlgorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
            "rejectDeprecatedAlgorithm": True,
            "wantXMLValidation": True,
        },
    }
    return OneLogin_Saml2_IdPMetadataParser.merge_settings(settings, idp)


def request_data(url, post=None, get=None):
    u = urlparse(url)
    return {
        "https": "on" if u.scheme == "https" else "off",
        "http_host": u.hostname,
        "server_port": u.port or (443 if u.scheme == "https" else 80),
        "script_name": u.path,
        "get_data": get or {},
        "post_data": post or {},
    }


def main():
    cmd = json.load(sys.stdin)
    s = cmd["settings"]
    settings = build_settings(s)
    op = cmd["op"]
    if op == "login":
        auth = OneLogin_Saml2_Auth(request_data(s["acs"]), settings)
        url = auth.login(return_to=cmd.get("relay_state"), force_authn=cmd.get("force_authn", False))
        out = {"url": url, "request_id": auth.get_last_request_id()}
    elif op == "acs":
        auth = OneLogin_Saml2_Auth(request_data(s["acs"], post=cmd["post"]), settings)
        auth.process_response(request_id=cmd.get("request_id"))
        out = {
            "errors": auth.get_errors(),
            "reason": auth.get_last_error_reason(),
            "authenticated": auth.is_authenticated(),
            "nameid": auth.get_nameid(),
            "nameid_format": auth.get_nameid_format(),
            "attributes": auth.get_attributes(),
            "session_index": auth.get_session_index(),
            "authn_contexts": auth.get_last_authn_contexts(),
        }
    elif op == "logout":
        settings["security"]["logoutRequestSigned"] = bool(cmd.get("sign"))
        auth = OneLogin_Saml2_Auth(request_data(s["sls"]), settings)
        url = auth.logout(name_id=cmd["name_id"], session_index=cmd.get("session_index"),
                          name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        out = {"url": url, "request_id": auth.get_last_request_id()}
    elif op == "sls":
        auth = OneLogin_Saml2_Auth(request_data(s["sls"], get=cmd["get"]), settings)
        auth.process_slo(request_id=cmd.get("request_id"), delete_session_cb=lambda: None)
        out = {"errors": auth.get_errors(), "reason": auth.get_last_error_reason()}
    else:
        raise SystemExit("unknown op " + op)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
