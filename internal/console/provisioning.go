package console

import (
	"context"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Provisioning runs an application's "Provisioning" tab: the API
// integration (credentials Gatehouse uses to call the application's API),
// the "To App" features and the attribute mappings. The Amazon Connect
// integration implements it; other applications report Available false.
type Provisioning interface {
	// Status returns the tab's state.
	Status(ctx context.Context, appID string) (ProvisioningStatus, error)
	// TestCredentials checks API credentials (empty keys: the stored ones)
	// without saving them, and says what it found.
	TestCredentials(ctx context.Context, appID, accessKey, secretKey string) (message string, err error)
	// SaveCredentials turns the API integration on or off and stores the
	// keys; empty keys keep the stored ones.
	SaveCredentials(ctx context.Context, appID string, enabled bool, accessKey, secretKey string) error
	// SetFeatures turns the "To App" features on or off.
	SetFeatures(ctx context.Context, appID string, create, update, deactivate bool) error
	// Retry queues the failed provisioning tasks again.
	Retry(ctx context.Context, appID string) (message string, err error)
	// RefreshAppData reads the application's data again (IAM roles,
	// Connect security and routing profiles).
	RefreshAppData(ctx context.Context, appID string) (message string, err error)
	// PushNow queues a sync of every assigned person.
	PushNow(ctx context.Context, appID string) (message string, err error)
}

// ProvisioningStatus is what the Provisioning tab shows.
type ProvisioningStatus struct {
	// Available is false for applications Gatehouse cannot provision.
	Available bool
	// APIIntegration is "Enable API Integration"; CredentialsSet says
	// whether keys are stored.
	APIIntegration bool
	CredentialsSet bool
	// The "To App" features.
	CreateUsers     bool
	UpdateUsers     bool
	DeactivateUsers bool
	Mappings        []AttributeMapping
	// Pending and Failed count provisioning tasks; LastError is the latest
	// failure, in words for an admin.
	Pending   int
	Failed    int
	LastError string
	// DataRefreshed is when the application data was last read.
	DataRefreshed time.Time
	// Notes are extra lines for the admin (imported roles, profiles).
	Notes []string
}

// AttributeMapping maps an application attribute from an expression over
// the Gatehouse profile.
type AttributeMapping struct {
	Attribute  string
	Expression string
}

// NotAvailable is the message of applications without provisioning.
const NotAvailable = "Provisioning is not available for this application"

// noProvisioning is the Provisioning of a Gatehouse without integrations.
type noProvisioning struct{}

func notAvailable() error { return errs.IllegalStatef("%s.", NotAvailable) }

func (noProvisioning) Status(context.Context, string) (ProvisioningStatus, error) {
	return ProvisioningStatus{}, nil
}
func (noProvisioning) TestCredentials(context.Context, string, string, string) (string, error) {
	return "", notAvailable()
}
func (noProvisioning) SaveCredentials(context.Context, string, bool, string, string) error {
	return notAvailable()
}
func (noProvisioning) SetFeatures(context.Context, string, bool, bool, bool) error {
	return notAvailable()
}
func (noProvisioning) Retry(context.Context, string) (string, error) { return "", notAvailable() }
func (noProvisioning) RefreshAppData(context.Context, string) (string, error) {
	return "", notAvailable()
}
func (noProvisioning) PushNow(context.Context, string) (string, error) { return "", notAvailable() }

func (c *Console) provisioning() Provisioning {
	if c.Provisioning == nil {
		return noProvisioning{}
	}
	return c.Provisioning
}

type provisioningData struct {
	appHead
	Sub          string
	NotAvailable string
	Status       ProvisioningStatus
	Refreshed    string
	// Configure shows the API integration form.
	Configure bool
	Fields    []Field
	Unclaimed []string
	// Edit shows the "To App" form.
	Edit     bool
	Features []Field
	// Message is the outcome of a test or an action; Problem a failure.
	Message string
	Problem string
}

func (c *Console) provisioningData(r *http.Request, a *catalog.App, sub string) (provisioningData, error) {
	st, err := c.provisioning().Status(r.Context(), a.ID)
	if err != nil {
		return provisioningData{}, err
	}
	d := provisioningData{appHead: c.head(a, "provisioning"), Sub: sub, Status: st}
	if !st.Available {
		d.NotAvailable = NotAvailable + "."
	}
	if !st.DataRefreshed.IsZero() {
		d.Refreshed = fmtTime(&st.DataRefreshed)
	}
	d.Configure = st.APIIntegration || r.URL.Query().Get("configure") == "1"
	d.Fields = integrationFields(st, st.APIIntegration, "", "")
	d.Edit = r.URL.Query().Get("edit") == "1"
	d.Features = []Field{
		checkbox("createUsers", "Create Users", st.CreateUsers),
		checkbox("updateUsers", "Update User Attributes", st.UpdateUsers),
		checkbox("deactivateUsers", "Deactivate Users", st.DeactivateUsers),
	}
	d.Features[0].Help = "Create a user in the application when a person is assigned to it."
	d.Features[1].Help = "Send profile changes to the application."
	d.Features[2].Help = "Disable the application's user when the person is unassigned or deactivated."
	return d, nil
}

func integrationFields(st ProvisioningStatus, enabled bool, access, secret string) []Field {
	ak := Field{Name: "accessKey", Label: "Access Key", Type: "text", Value: access, Autocomplete: "off",
		Help: "Access key ID of the IAM user Gatehouse calls AWS with."}
	sk := Field{Name: "secretKey", Label: "Secret Key", Type: "password", Value: secret, Autocomplete: "new-password",
		Help: "Stored encrypted and never shown again."}
	if st.CredentialsSet {
		ak.Help += " Leave both keys empty to keep the stored ones."
		ak.Placeholder, sk.Placeholder = "(stored)", "(stored)"
	}
	return []Field{checkbox("enabled", "Enable API Integration", enabled), ak, sk}
}

func (c *Console) provisioningPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := c.provisioningData(r, a, "integration")
	if err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_provisioning", a.Label, "apps", "", d)
	return nil
}

func (c *Console) provisioningToApp(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := c.provisioningData(r, a, "to-app")
	if err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_provisioning", a.Label, "apps", "", d)
	return nil
}

// problem renders a provisioning failure: field messages beside their
// inputs, the rest as the page's error.
func (c *Console) provisioningProblem(r *http.Request, d *provisioningData, err error) (string, bool) {
	if summary, fe, ok := fieldErrors(err); ok {
		d.Unclaimed = bind(d.Fields, fe)
		return summary, true
	}
	if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
		return e.Msg, true
	}
	web.Logger(r.Context(), c.Log).Warn("provisioning action failed", "err", err)
	msg := err.Error()
	if len(msg) > 400 {
		msg = msg[:400] + "…"
	}
	return msg, true
}

func (c *Console) provisioningIntegration(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := c.provisioningData(r, a, "integration")
	if err != nil {
		return err
	}
	enabled := r.PostFormValue("enabled") == "true"
	access, secret := r.PostFormValue("accessKey"), r.PostFormValue("secretKey")
	d.Configure = true
	d.Fields = integrationFields(d.Status, enabled, access, secret)
	if r.PostFormValue("action") == "test" {
		msg, err := c.provisioning().TestCredentials(ctx, a.ID, access, secret)
		if err == nil {
			d.Message = msg
			if d.Message == "" {
				d.Message = "The credentials work."
			}
			c.render(w, r, rq, http.StatusOK, "admin_app_provisioning", a.Label, "apps", "", d)
			return nil
		}
		summary, _ := c.provisioningProblem(r, &d, err)
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_provisioning", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	if err := c.provisioning().SaveCredentials(ctx, a.ID, enabled, access, secret); err != nil {
		summary, _ := c.provisioningProblem(r, &d, err)
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_provisioning", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	return done(w, r, "/admin/apps/"+a.ID+"/provisioning", "provisioning")
}

func (c *Console) provisioningFeatures(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	on := func(k string) bool { return r.PostFormValue(k) == "true" }
	if err := c.provisioning().SetFeatures(ctx, a.ID, on("createUsers"), on("updateUsers"), on("deactivateUsers")); err != nil {
		d, derr := c.provisioningData(r, a, "to-app")
		if derr != nil {
			return derr
		}
		d.Edit = true
		for i := range d.Features {
			d.Features[i].Checked = on(d.Features[i].Name)
		}
		summary, _ := c.provisioningProblem(r, &d, err)
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_provisioning", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	return done(w, r, "/admin/apps/"+a.ID+"/provisioning/to-app", "provisioning")
}

func (c *Console) provisioningAction(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := c.provisioning()
	var act func(context.Context, string) (string, error)
	sub := "to-app"
	switch r.PathValue("action") {
	case "refresh":
		act, sub = p.RefreshAppData, "integration"
	case "retry":
		act = p.Retry
	case "push":
		act = p.PushNow
	default:
		return errs.NotFoundf("There is no provisioning action %q.", r.PathValue("action"))
	}
	msg, err := act(ctx, a.ID)
	d, derr := c.provisioningData(r, a, sub)
	if derr != nil {
		return derr
	}
	if err != nil {
		summary, _ := c.provisioningProblem(r, &d, err)
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_provisioning", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	d.Message = msg
	if d.Message == "" {
		d.Message = "Done."
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_provisioning", a.Label, "apps", "", d)
	return nil
}
