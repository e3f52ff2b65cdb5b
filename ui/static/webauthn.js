// Passkeys and security keys: runs the WebAuthn ceremonies of the buttons
// #passkey-register, #passkey-verify and #passkey-signin (passwordless, no
// username: the browser offers the passkeys it holds; data-next is where
// to go after). Each button names the two
// Gatehouse calls of its ceremony (data-options, data-finish) and carries
// the page's CSRF token (data-csrf); errors appear in #passkey-error.
(function () {
  "use strict";

  function toBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBuffer(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: toBuffer(pk.user.id) });
    pk.excludeCredentials = (pk.excludeCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBuffer(c.id) });
    });
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = toBuffer(pk.challenge);
    pk.allowCredentials = (pk.allowCredentials || []).map(function (c) {
      return Object.assign({}, c, { id: toBuffer(c.id) });
    });
    return { publicKey: pk };
  }

  function credentialJSON(c) {
    var r = c.response;
    var out = { id: c.id, rawId: toBase64url(c.rawId), type: c.type, response: { clientDataJSON: toBase64url(r.clientDataJSON) } };
    if (c.authenticatorAttachment) { out.authenticatorAttachment = c.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) { out.response.userHandle = toBase64url(r.userHandle); }
    }
    out.clientExtensionResults = c.getClientExtensionResults ? c.getClientExtensionResults() : {};
    return out;
  }

  function call(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (j) {
        if (!resp.ok) {
          if (j.redirect) { window.location.assign(j.redirect); }
          throw new Error(j.error || "Something went wrong. Try again.");
        }
        return j;
      });
    });
  }

  function showError(msg) {
    var el = document.getElementById("passkey-error");
    if (el) { el.textContent = msg; }
  }

  function failed(err) {
    if (err && (err.name === "NotAllowedError" || err.name === "AbortError")) {
      showError("The passkey request was cancelled or timed out. Try again.");
      return;
    }
    showError(err && err.message ? err.message : "Your passkey could not be used.");
  }

  var reg = document.getElementById("passkey-register");
  if (reg) {
    reg.addEventListener("click", function () {
      showError("");
      if (!window.PublicKeyCredential) { showError("This browser does not support passkeys."); return; }
      var nameInput = document.getElementById("passkey-name");
      var csrf = reg.getAttribute("data-csrf");
      reg.disabled = true;
      call(reg.getAttribute("data-options"), csrf, { name: nameInput ? nameInput.value : "" })
        .then(function (j) {
          return navigator.credentials.create(creationOptions(j.options)).then(function (cred) {
            var finish = reg.getAttribute("data-finish");
            if (j.factorId) { finish += "?factor=" + encodeURIComponent(j.factorId); }
            return call(finish, csrf, credentialJSON(cred));
          });
        })
        .then(function (j) { window.location.assign(j.redirect); })
        .catch(failed)
        .finally(function () { reg.disabled = false; });
    });
  }

  var ver = document.getElementById("passkey-verify");
  if (ver) {
    ver.addEventListener("click", function () {
      showError("");
      if (!window.PublicKeyCredential) { showError("This browser does not support passkeys."); return; }
      var csrf = ver.getAttribute("data-csrf");
      var remember = document.querySelector("input[name=remember]");
      ver.disabled = true;
      call(ver.getAttribute("data-options"), csrf)
        .then(function (j) { return navigator.credentials.get(requestOptions(j.options)); })
        .then(function (cred) {
          var finish = ver.getAttribute("data-finish");
          if (remember && remember.checked) { finish += "?remember=1"; }
          return call(finish, csrf, credentialJSON(cred));
        })
        .then(function (j) { window.location.assign(j.redirect); })
        .catch(failed)
        .finally(function () { ver.disabled = false; });
    });
  }
  var pwl = document.getElementById("passkey-signin");
  if (pwl) {
    pwl.addEventListener("click", function () {
      showError("");
      if (!window.PublicKeyCredential) { showError("This browser does not support passkeys."); return; }
      var csrf = pwl.getAttribute("data-csrf");
      pwl.disabled = true;
      call(pwl.getAttribute("data-options"), csrf)
        .then(function (j) { return navigator.credentials.get(requestOptions(j.options)); })
        .then(function (cred) {
          var finish = pwl.getAttribute("data-finish") + "?next=" + encodeURIComponent(pwl.getAttribute("data-next") || "");
          return call(finish, csrf, credentialJSON(cred));
        })
        .then(function (j) { window.location.assign(j.redirect); })
        .catch(failed)
        .finally(function () { pwl.disabled = false; });
    });
  }
})();
