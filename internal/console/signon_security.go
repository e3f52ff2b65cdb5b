package console

import (
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// The Sign On tab's advanced SAML settings: assertion encryption, single
// logout, signed requests with the service provider's certificate, and the
// other SSO URLs a service provider may request. The catalog validates
// them exactly as it does for the apps API; the form only reads them.

// spareACSRows is how many empty "other SSO URL" rows the form adds.
const spareACSRows = 2

// Choices of the encryption algorithms (Okta's values).
var (
	encryptionAlgorithms = []string{"AES256_GCM", "AES128_GCM", "AES256_CBC", "AES128_CBC"}
	keyTransports        = []string{"RSA_OAEP", "RSA_15"}
)

// MaxCertificateUpload bounds one uploaded certificate file.
const MaxCertificateUpload = 64 << 10

// securityFields builds the encryption, logout and ACS inputs from the
// app's settings (or the submitted form after a failed save).
func securityFields(so catalog.SignOn, form url.Values) (enc, logout []Field, allow Field, acs []statementRow) {
	const pre = "settings.signOn."
	get := func(name, cur string) string {
		if form != nil {
			return form.Get(pre + name)
		}
		return cur
	}
	on := func(name string, cur bool) bool {
		if form != nil {
			return form.Get(pre+name) == "true"
		}
		return cur
	}
	ae := so.AssertionEncryption
	alg, kt := ae.EncryptionAlgorithm, ae.KeyTransportAlgorithm
	if alg == "" {
		alg = encryptionAlgorithms[0]
	}
	if kt == "" {
		kt = keyTransports[0]
	}
	encOn := checkbox(pre+"assertionEncryption.enabled", "Assertion Encryption", on("assertionEncryption.enabled", ae.Enabled))
	encOn.Help = "Encrypt the assertion for the service provider with its encryption certificate."
	algF := choice(pre+"assertionEncryption.encryptionAlgorithm", "Encryption Algorithm", get("assertionEncryption.encryptionAlgorithm", alg), encryptionAlgorithms...)
	ktF := choice(pre+"assertionEncryption.keyTransportAlgorithm", "Key Transport Algorithm", get("assertionEncryption.keyTransportAlgorithm", kt), keyTransports...)
	ktF.Help = "RSA_15 needs the legacy_crypto setting."
	encCert := Field{Name: pre + "assertionEncryption.x5c", Label: "Encryption Certificate", Type: "textarea", Value: get("assertionEncryption.x5c", ""),
		Help: "Paste the service provider's encryption certificate (PEM, or base64 DER), or upload it below. Empty keeps the stored one."}
	encFile := Field{Name: pre + "assertionEncryption.x5c.file", Label: "Upload Encryption Certificate", Type: "file", Keys: []string{"assertionEncryption.file"}}
	encDrop := checkbox(pre+"assertionEncryption.x5c.remove", "Remove the stored encryption certificate", on("assertionEncryption.x5c.remove", false))
	enc = []Field{encOn, algF, ktF, encCert, encFile, encDrop}

	slo := so.SLO
	sloOn := checkbox(pre+"slo.enabled", "Enable Single Logout", on("slo.enabled", slo.Enabled))
	sloOn.Help = "Accept logout requests from the service provider and answer them. Logout requests must be signed: single logout needs the signature certificate below."
	sloURL := Field{Name: pre + "slo.logoutUrl", Label: "Single Logout URL", Type: "url", Value: get("slo.logoutUrl", slo.LogoutURL),
		Help: "Where Gatehouse sends the service provider's LogoutResponse."}
	sloIss := Field{Name: pre + "slo.issuer", Label: "SP Issuer for Single Logout", Type: "text", Value: get("slo.issuer", slo.Issuer),
		Help: "The Issuer of the service provider's LogoutRequests."}
	signed := checkbox(pre+"samlSignedRequestEnabled", "Signed Requests", on("samlSignedRequestEnabled", so.SAMLSignedRequestEnabled))
	signed.Help = "Accept only AuthnRequests signed with the signature certificate below."
	spCert := Field{Name: pre + "spCertificate.x5c", Label: "Signature Certificate", Type: "textarea", Value: get("spCertificate.x5c", ""),
		Help: "The service provider's signing certificate (PEM, or base64 DER), for signed requests and logout. Empty keeps the stored one."}
	spFile := Field{Name: pre + "spCertificate.x5c.file", Label: "Upload Signature Certificate", Type: "file", Keys: []string{"spCertificate.file"}}
	spDrop := checkbox(pre+"spCertificate.x5c.remove", "Remove the stored signature certificate", on("spCertificate.x5c.remove", false))
	logout = []Field{sloOn, sloURL, sloIss, signed, spCert, spFile, spDrop}

	allow = checkbox(pre+"allowMultipleAcsEndpoints", "Allow this app to request other SSO URLs", on("allowMultipleAcsEndpoints", so.AllowMultipleAcsEndpoints))
	allow.Help = "A service provider may then ask, by index or URL, for its assertion at one of these URLs instead of the single sign-on URL."
	type row struct{ url, index string }
	var rows []row
	if form != nil {
		n, _ := strconv.Atoi(form.Get("acsRows"))
		n = min(max(n, 0), catalog.MaxACSEndpoints)
		for i := range n {
			p := pre + "acsEndpoints[" + strconv.Itoa(i) + "]."
			rows = append(rows, row{form.Get(p + "url"), form.Get(p + "index")})
		}
	} else {
		for _, e := range so.AcsEndpoints {
			rows = append(rows, row{e.URL, strconv.Itoa(e.Index)})
		}
		for range spareACSRows {
			if len(rows) < catalog.MaxACSEndpoints {
				rows = append(rows, row{})
			}
		}
	}
	for i, r := range rows {
		p := pre + "acsEndpoints[" + strconv.Itoa(i) + "]."
		n := strconv.Itoa(i + 1)
		acs = append(acs, statementRow{Number: i + 1, Fields: []Field{
			{Name: p + "url", Label: "Other SSO URL " + n + ": URL", Type: "url", Value: r.url},
			{Name: p + "index", Label: "Other SSO URL " + n + ": index", Type: "number", Value: r.index},
		}})
	}
	return enc, logout, allow, acs
}

// uploaded returns the content of an uploaded file, if one was sent.
func uploaded(r *http.Request, name string) ([]byte, bool) {
	if r.MultipartForm == nil {
		return nil, false
	}
	fs := r.MultipartForm.File[name]
	if len(fs) == 0 || fs[0].Size == 0 {
		return nil, false
	}
	f, err := fs[0].Open()
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxCertificateUpload+1))
	if err != nil {
		return nil, false
	}
	return b, true
}

// certificatesOf reads pasted or uploaded certificates: PEM blocks (every
// CERTIFICATE block, in order), DER bytes, or base64 DER text. It returns
// the x5c values (base64 DER), which the catalog then checks.
func certificatesOf(b []byte) ([]string, string) {
	if len(b) > MaxCertificateUpload {
		return nil, "The certificate is larger than 64 KiB."
	}
	text := strings.TrimSpace(string(b))
	if text == "" {
		return nil, ""
	}
	if strings.Contains(text, "-----BEGIN") {
		var out []string
		rest := []byte(text)
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if blk.Type == "CERTIFICATE" {
				out = append(out, base64.StdEncoding.EncodeToString(blk.Bytes))
			}
		}
		if len(out) == 0 {
			return nil, "No PEM CERTIFICATE block was found; paste the certificate from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
		}
		return out, ""
	}
	if len(b) > 0 && b[0] == 0x30 { // DER: an ASN.1 SEQUENCE
		return []string{base64.StdEncoding.EncodeToString(b)}, ""
	}
	return []string{strings.Join(strings.Fields(text), "")}, ""
}

// securityFromForm applies the advanced SAML settings of the form to so.
func securityFromForm(so *catalog.SignOn, form url.Values, file func(string) ([]byte, bool)) []errs.FieldError {
	const pre = "settings.signOn."
	v := func(k string) string { return strings.TrimSpace(form.Get(pre + k)) }
	b := func(k string) bool { return form.Get(pre+k) == "true" }
	var fe []errs.FieldError
	certs := func(key string, cur []string) []string {
		if b(key + ".remove") {
			return nil
		}
		var raw []byte
		if f, ok := file(pre + key + ".file"); ok {
			raw = f
		} else {
			raw = []byte(form.Get(pre + key))
		}
		x5c, msg := certificatesOf(raw)
		if msg != "" {
			fe = append(fe, errs.Field(pre+key, "%s", msg))
			return cur
		}
		if x5c == nil {
			return cur
		}
		return x5c
	}
	ae := &so.AssertionEncryption
	ae.Enabled = b("assertionEncryption.enabled")
	ae.EncryptionAlgorithm, ae.KeyTransportAlgorithm = v("assertionEncryption.encryptionAlgorithm"), v("assertionEncryption.keyTransportAlgorithm")
	ae.X5C = certs("assertionEncryption.x5c", ae.X5C)
	if !ae.Enabled && len(ae.X5C) == 0 {
		ae.EncryptionAlgorithm, ae.KeyTransportAlgorithm = "", ""
	}
	so.SLO.Enabled, so.SLO.LogoutURL, so.SLO.Issuer = b("slo.enabled"), v("slo.logoutUrl"), v("slo.issuer")
	so.SAMLSignedRequestEnabled = b("samlSignedRequestEnabled")
	so.SPCertificate.X5C = certs("spCertificate.x5c", so.SPCertificate.X5C)
	so.AllowMultipleAcsEndpoints = b("allowMultipleAcsEndpoints")
	n, _ := strconv.Atoi(form.Get("acsRows"))
	n = min(max(n, 0), catalog.MaxACSEndpoints)
	so.AcsEndpoints = []catalog.ACSEndpoint{}
	used := map[int]bool{}
	var unnumbered []int // positions in AcsEndpoints without an index
	for i := range n {
		p := "acsEndpoints[" + strconv.Itoa(i) + "]."
		u, idx := v(p+"url"), v(p+"index")
		if u == "" && idx == "" {
			continue
		}
		e := catalog.ACSEndpoint{URL: u}
		if idx == "" {
			unnumbered = append(unnumbered, len(so.AcsEndpoints))
		} else if k, err := strconv.Atoi(idx); err != nil {
			fe = append(fe, errs.Field(pre+p+"index", "Enter a whole number."))
			continue
		} else {
			e.Index = k
			used[k] = true
		}
		so.AcsEndpoints = append(so.AcsEndpoints, e)
	}
	// A row without an index takes the lowest one no other row uses.
	next := 0
	for _, at := range unnumbered {
		for used[next] {
			next++
		}
		so.AcsEndpoints[at].Index = next
		used[next] = true
	}
	return fe
}
