package console

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
)

type keyRow struct {
	Kid, Created, Expires, Status string
	Active                        bool
}

type signOnData struct {
	appHead
	Links    appLinks
	Relay    []Field
	SAML     []Field
	Advanced []Field
	// AdvancedIntro explains the AWS fields.
	AdvancedIntro string
	Unclaimed     []string
	Keys          []keyRow
	Connect       bool
	// Statements are the attribute statement rows; StatementRows their count.
	Statements    []statementRow
	StatementRows int
	// Security are the assertion encryption, single logout and signed
	// request settings, with the certificates they hold.
	Encryption []Field
	EncCert    *certInfo
	Logout     []Field
	SPCert     *certInfo
	// ACS are the other requestable SSO URLs; ACSRows their count.
	ACSAllow Field
	ACS      []statementRow
	ACSRows  int
}

// certInfo describes a stored certificate.
type certInfo struct {
	Subject, Expires, SHA256 string
	More                     int // further certificates of the list
	Bad                      string
}

func describeCerts(x5c []string) *certInfo {
	if len(x5c) == 0 {
		return nil
	}
	ci := &certInfo{More: len(x5c) - 1}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(x5c[0]), ""))
	if err != nil {
		ci.Bad = "not base64"
		return ci
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		ci.Bad = "not a certificate"
		return ci
	}
	sum := sha256.Sum256(der)
	ci.Subject, ci.Expires, ci.SHA256 = c.Subject.String(), fmtTime(&c.NotAfter), strings.ToUpper(hex.EncodeToString(sum[:]))
	return ci
}

// statementRow is one attribute statement of the form.
type statementRow struct {
	Number int
	Fields []Field
}

// spareStatements is how many empty attribute statement rows the form adds.
const spareStatements = 2

var attrNamespaces = []string{
	"urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified",
	"urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
	"urn:oasis:names:tc:SAML:2.0:attrname-format:basic",
}

var namespaceLabels = map[string]string{attrNamespaces[0]: "Unspecified", attrNamespaces[1]: "URI Reference", attrNamespaces[2]: "Basic"}

// statementRows builds the attribute statement inputs: the app's
// statements (or the submitted rows) and spare empty rows.
func statementRows(so catalog.SignOn, form url.Values) []statementRow {
	type st struct{ typ, name, ns, values, ftype, fvalue string }
	var rows []st
	if form != nil {
		n, _ := strconv.Atoi(form.Get("statements"))
		n = min(max(n, 0), catalog.MaxStatements)
		for i := range n {
			pre := "settings.signOn.attributeStatements[" + strconv.Itoa(i) + "]."
			rows = append(rows, st{form.Get(pre + "type"), form.Get(pre + "name"), form.Get(pre + "namespace"), form.Get(pre + "values"), form.Get(pre + "filterType"), form.Get(pre + "filterValue")})
		}
	} else {
		for _, a := range so.AttributeStatements {
			rows = append(rows, st{a.Type, a.Name, a.Namespace, strings.Join(a.Values, "\n"), a.FilterType, a.FilterValue})
		}
		for range spareStatements {
			if len(rows) < catalog.MaxStatements {
				rows = append(rows, st{typ: catalog.StatementExpression, ns: attrNamespaces[0]})
			}
		}
	}
	out := make([]statementRow, len(rows))
	for i, r := range rows {
		pre := "settings.signOn.attributeStatements[" + strconv.Itoa(i) + "]."
		n := strconv.Itoa(i + 1)
		typ := choice(pre+"type", "Statement "+n+": type", r.typ, catalog.StatementExpression, catalog.StatementGroup)
		ns := choice(pre+"namespace", "Statement "+n+": name format", r.ns, attrNamespaces...)
		for j, o := range ns.Options {
			if l, ok := namespaceLabels[o.Value]; ok {
				ns.Options[j].Label = l
			}
		}
		ftype := choice(pre+"filterType", "Statement "+n+": group filter", r.ftype, "", catalog.FilterStartsWith, catalog.FilterEquals, catalog.FilterContains, catalog.FilterRegex)
		ftype.Help = "GROUP statements: which of the person's group names are sent."
		for j := range ftype.Options {
			if ftype.Options[j].Value == "" {
				ftype.Options[j].Label = "(none)"
			}
		}
		out[i] = statementRow{Number: i + 1, Fields: []Field{
			typ,
			{Name: pre + "name", Label: "Statement " + n + ": attribute name", Type: "text", Value: r.name},
			ns,
			{Name: pre + "values", Label: "Statement " + n + ": value", Type: "textarea", Value: r.values,
				Help: "EXPRESSION statements: an expression such as ${user.email}; one per line for several values."},
			ftype,
			{Name: pre + "filterValue", Label: "Statement " + n + ": group filter value", Type: "text", Value: r.fvalue},
		}}
	}
	return out
}

// statementsFromForm reads the attribute statement rows, dropping empty ones.
func statementsFromForm(form url.Values) []catalog.AttributeStatement {
	n, _ := strconv.Atoi(form.Get("statements"))
	n = min(max(n, 0), catalog.MaxStatements)
	out := []catalog.AttributeStatement{}
	for i := range n {
		pre := "settings.signOn.attributeStatements[" + strconv.Itoa(i) + "]."
		v := func(k string) string { return strings.TrimSpace(form.Get(pre + k)) }
		st := catalog.AttributeStatement{Type: v("type"), Name: v("name"), Namespace: v("namespace"), FilterType: v("filterType"), FilterValue: v("filterValue")}
		for _, line := range strings.Split(form.Get(pre+"values"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				st.Values = append(st.Values, line)
			}
		}
		if st.Name == "" && len(st.Values) == 0 && st.FilterValue == "" {
			continue
		}
		if st.Type == catalog.StatementGroup {
			st.Values = nil
		} else {
			st.FilterType, st.FilterValue = "", ""
		}
		out = append(out, st)
	}
	return out
}

// nameIDFormats are the choices of "Name ID format".
var nameIDFormats = []string{catalog.NameIDUnspecified, catalog.NameIDEmail, catalog.NameIDX509, catalog.NameIDPersistent, catalog.NameIDTransient}

// connectRelayState is the Connect federation URL of a region and instance.
func connectRelayState(region, instance string) string {
	if region == "" || instance == "" {
		return ""
	}
	return "https://" + region + ".console.aws.amazon.com/connect/federate/" + instance
}

// signOnFields builds the Sign On form from the app's settings (and the
// submitted form after a failed save).
func signOnFields(a *catalog.App, form url.Values) (relay, saml, advanced []Field) {
	so := a.Settings.SignOn
	t := catalog.TemplateFor(a.Name)
	get := func(name, cur string) string {
		if form != nil {
			return form.Get(name)
		}
		return cur
	}
	on := func(name string, cur bool) bool {
		if form != nil {
			return form.Get(name) == "true"
		}
		return cur
	}
	const pre = "settings.signOn."
	rs := Field{Name: pre + "defaultRelayState", Label: "Default Relay State", Type: "text", Value: get(pre+"defaultRelayState", so.DefaultRelayState),
		Help: "Where the person lands after an IdP-initiated sign-in (the application's own page by default)."}
	if a.Name == catalog.TemplateConnect {
		rs.Help = "For Amazon Connect: https://<region>.console.aws.amazon.com/connect/federate/<instance-id>."
		if s := connectRelayState(profileString(a.Settings.App["region"]), profileString(a.Settings.App["instanceId"])); s != "" {
			rs.Help += " For this instance: " + s
			rs.Placeholder = s
		}
	}
	relay = []Field{rs}

	lifetime := ""
	if so.SAMLAssertionLifetimeSeconds != 0 {
		lifetime = strconv.Itoa(so.SAMLAssertionLifetimeSeconds)
	}
	nameID := choice(pre+"subjectNameIdFormat", "Name ID format", get(pre+"subjectNameIdFormat", so.SubjectNameIDFormat), nameIDFormats...)
	sig := choice(pre+"signatureAlgorithm", "Signature Algorithm", get(pre+"signatureAlgorithm", so.SignatureAlgorithm), "RSA_SHA256", "RSA_SHA1")
	dig := choice(pre+"digestAlgorithm", "Digest Algorithm", get(pre+"digestAlgorithm", so.DigestAlgorithm), "SHA256", "SHA1")
	saml = []Field{
		{Name: pre + "ssoAcsUrl", Label: "Single sign-on URL", Type: "url", Value: get(pre+"ssoAcsUrl", so.SSOAcsURL), Required: true,
			Help: "The service provider's Assertion Consumer Service URL, where Gatehouse posts the SAML response."},
		{Name: pre + "recipient", Label: "Recipient URL", Type: "url", Value: get(pre+"recipient", so.Recipient), Help: "Empty: the single sign-on URL."},
		{Name: pre + "destination", Label: "Destination URL", Type: "url", Value: get(pre+"destination", so.Destination), Help: "Empty: the single sign-on URL."},
		{Name: pre + "audience", Label: "Audience URI (SP Entity ID)", Type: "text", Value: get(pre+"audience", so.Audience), Required: true},
		nameID,
		{Name: pre + "subjectNameIdTemplate", Label: "Application username (Name ID)", Type: "text", Value: get(pre+"subjectNameIdTemplate", so.SubjectNameIDTemplate),
			Help: "An expression; ${user.userName} is the app username of the assignment."},
		{Name: pre + "idpIssuer", Label: "Issuer (IdP entity ID)", Type: "text", Value: get(pre+"idpIssuer", so.IdPIssuer),
			Help: "${org.externalKey} is this application's key; ${org.baseUrl} is Gatehouse's address; the default is ${org.baseUrl}/${org.externalKey}."},
		checkbox(pre+"responseSigned", "Sign the SAML response", on(pre+"responseSigned", so.ResponseSigned)),
		checkbox(pre+"assertionSigned", "Sign the assertion", on(pre+"assertionSigned", so.AssertionSigned)),
		sig, dig,
		checkbox(pre+"honorForceAuthn", "Honor Force Authentication", on(pre+"honorForceAuthn", so.HonorForceAuthn)),
		{Name: pre + "spIssuer", Label: "SP Issuer", Type: "text", Value: get(pre+"spIssuer", so.SPIssuer), Help: "The service provider's entity ID in its AuthnRequests, when it sends them."},
		{Name: pre + "samlAssertionLifetimeSeconds", Label: "Assertion lifetime (seconds)", Type: "number", Value: get(pre+"samlAssertionLifetimeSeconds", lifetime),
			Help: "Empty: the default (5 minutes). From 60 to 86400."},
	}
	for _, f := range t.Fields {
		if f.WriteOnly || f.Name == "loginURL" {
			continue
		}
		name := "settings.app." + f.Name
		cur := profileString(a.Settings.App[f.Name])
		fd := settingField(f, get(name, cur))
		if f.Type == catalog.FieldBoolean {
			fd.Checked = on(name, cur == "true")
		}
		advanced = append(advanced, fd)
	}
	return relay, saml, advanced
}

func (c *Console) signOnPage(w http.ResponseWriter, r *http.Request, rq *request, a *catalog.App, form url.Values, saveErr error) error {
	relay, saml, adv := signOnFields(a, form)
	d := signOnData{appHead: c.head(a, "signon"), Links: c.links(a), Relay: relay, SAML: saml, Advanced: adv, Connect: a.Name == catalog.TemplateConnect,
		Statements: statementRows(a.Settings.SignOn, form)}
	d.StatementRows = len(d.Statements)
	d.Encryption, d.Logout, d.ACSAllow, d.ACS = securityFields(a.Settings.SignOn, form)
	d.ACSRows = len(d.ACS)
	d.EncCert, d.SPCert = describeCerts(a.Settings.SignOn.AssertionEncryption.X5C), describeCerts(a.Settings.SignOn.SPCertificate.X5C)
	if isAWS(a) {
		d.AdvancedIntro = "The AWS settings: paste the ARN of the IAM identity provider created from this application's metadata into Identity Provider ARN."
	}
	_, keys, err := c.Catalog.Keys(r.Context(), a.ID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		d.Keys = append(d.Keys, keyRow{Kid: k.Kid, Created: fmtTime(&k.Created), Expires: fmtTime(&k.ExpiresAt),
			Status: catalog.KeyStatus(a, k.Kid), Active: catalog.KeyStatus(a, k.Kid) == catalog.KeyActive})
	}
	if saveErr != nil {
		summary, fe, ok := fieldErrors(saveErr)
		if !ok {
			return saveErr
		}
		all := append(append(append([]Field{}, d.Relay...), d.SAML...), d.Advanced...)
		for _, st := range d.Statements {
			all = append(all, st.Fields...)
		}
		all = append(append(append(all, d.Encryption...), d.Logout...), d.ACSAllow)
		for _, st := range d.ACS {
			all = append(all, st.Fields...)
		}
		d.Unclaimed = bind(all, fe)
		rest := all
		take := func(n int) []Field { f := rest[:n]; rest = rest[n:]; return f }
		d.Relay, d.SAML, d.Advanced = take(len(d.Relay)), take(len(d.SAML)), take(len(d.Advanced))
		for i := range d.Statements {
			d.Statements[i].Fields = take(len(d.Statements[i].Fields))
		}
		d.Encryption, d.Logout, d.ACSAllow = take(len(d.Encryption)), take(len(d.Logout)), take(1)[0]
		for i := range d.ACS {
			d.ACS[i].Fields = take(len(d.ACS[i].Fields))
		}
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_signon", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_signon", a.Label, "apps", "", d)
	return nil
}

func (c *Console) appSignOn(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.signOnPage(w, r, rq, a, nil, nil)
}

// signOnInput reads the Sign On form over the app's current settings.
// Numbers that do not parse are passed on as text so that the catalog
// names the field.
func signOnInput(a *catalog.App, form url.Values, file func(name string) ([]byte, bool)) (catalog.AppInput, []errs.FieldError) {
	const pre = "settings.signOn."
	so := a.Settings.SignOn
	v := func(k string) string { return strings.TrimSpace(form.Get(pre + k)) }
	b := func(k string) bool { return form.Get(pre+k) == "true" }
	so.DefaultRelayState = v("defaultRelayState")
	so.SSOAcsURL, so.Recipient, so.Destination, so.Audience = v("ssoAcsUrl"), v("recipient"), v("destination"), v("audience")
	so.SubjectNameIDFormat, so.SubjectNameIDTemplate, so.IdPIssuer = v("subjectNameIdFormat"), v("subjectNameIdTemplate"), v("idpIssuer")
	so.ResponseSigned, so.AssertionSigned, so.HonorForceAuthn = b("responseSigned"), b("assertionSigned"), b("honorForceAuthn")
	so.SignatureAlgorithm, so.DigestAlgorithm, so.SPIssuer = v("signatureAlgorithm"), v("digestAlgorithm"), v("spIssuer")
	var fe []errs.FieldError
	so.SAMLAssertionLifetimeSeconds = 0
	if s := v("samlAssertionLifetimeSeconds"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fe = append(fe, errs.Field(pre+"samlAssertionLifetimeSeconds", "Enter a whole number of seconds."))
		}
		so.SAMLAssertionLifetimeSeconds = n
	}
	if form.Has("statements") {
		so.AttributeStatements = statementsFromForm(form)
	}
	if form.Has("security") {
		fe = append(fe, securityFromForm(&so, form, file)...)
	}
	in := catalog.AppInput{SignOn: &so, SettingsApp: map[string]any{}}
	for _, f := range catalog.TemplateFor(a.Name).Fields {
		if f.WriteOnly || f.Name == "loginURL" {
			continue
		}
		v, msg := settingValue(f, strings.TrimSpace(form.Get("settings.app."+f.Name)))
		if msg != "" {
			fe = append(fe, errs.Field("settings.app."+f.Name, "%s", msg))
			continue
		}
		in.SettingsApp[f.Name] = v
	}
	return in, fe
}

func (c *Console) saveSignOn(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	in, fe := signOnInput(a, r.PostForm, func(name string) ([]byte, bool) { return uploaded(r, name) })
	if fe != nil {
		err = errs.InvalidFields("Api validation failed: app", fe...)
	} else if _, err = c.Catalog.UpdateApp(ctx, a.ID, in); err == nil {
		if r.PostFormValue("after") == "done" {
			return done(w, r, "/admin/apps/"+a.ID, "saved")
		}
		return done(w, r, "/admin/apps/"+a.ID+"/signon", "saved")
	}
	return c.signOnPage(w, r, rq, a, r.PostForm, err)
}

func (c *Console) generateKey(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	years := 1
	if r.PostFormValue("validityYears") == "2" {
		years = 2
	}
	if _, err := c.Catalog.GenerateKey(r.Context(), id, years, 0); err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+id+"/signon#keys", "key")
}

func (c *Console) activateKey(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if _, err := c.Catalog.UpdateApp(r.Context(), id, catalog.AppInput{SigningKid: r.PathValue("kid")}); err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+id+"/signon#keys", "keyactive")
}

func (c *Console) deleteKey(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if err := c.Catalog.DeleteKey(r.Context(), id, r.PathValue("kid")); err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+id+"/signon#keys", "deleted")
}
