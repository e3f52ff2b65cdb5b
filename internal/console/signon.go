package console

import (
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
			Help: "${org.externalKey} is this application's key; the default is http://www.okta.com/${org.externalKey}."},
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
	d := signOnData{appHead: c.head(a, "signon"), Links: c.links(a), Relay: relay, SAML: saml, Advanced: adv, Connect: a.Name == catalog.TemplateConnect}
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
		d.Unclaimed = bind(all, fe)
		d.Relay, d.SAML, d.Advanced = all[:len(d.Relay)], all[len(d.Relay):len(d.Relay)+len(d.SAML)], all[len(d.Relay)+len(d.SAML):]
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
func signOnInput(a *catalog.App, form url.Values) (catalog.AppInput, []errs.FieldError) {
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
	in, fe := signOnInput(a, r.PostForm)
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
