package console

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Provisioning runs an application's "Provisioning" tab: the API
// integration (credentials Gatehouse uses to call the application's API),
// the "To App" features, the attribute mappings and their preview, the
// defaults for new users, and the provisioning status (tasks, retries,
// "Push Now"). The Amazon Connect integration implements it; other
// applications report Available false.
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
	// SaveMappings replaces the attribute mappings; a mapping with an empty
	// expression is removed. Field errors are named mappings.<Attribute>.
	SaveMappings(ctx context.Context, appID string, m []AttributeMapping) error
	// Preview shows what Gatehouse would send for a person (username or
	// id), with the given mappings (nil: the saved ones).
	Preview(ctx context.Context, appID, person string, m []AttributeMapping) (*MappingPreview, error)
	// SaveDefaults stores what new users get when their assignment names
	// nothing, and what deprovisioning does.
	SaveDefaults(ctx context.Context, appID string, d ProvisioningDefaults) error
	// Tasks pages the app's provisioning tasks, newest first.
	Tasks(ctx context.Context, appID string, q TaskQuery) (TaskPage, error)
	// RetryTask queues one failed task again.
	RetryTask(ctx context.Context, appID, taskID string) (message string, err error)
	// Retry queues every failed task again.
	Retry(ctx context.Context, appID string) (message string, err error)
	// RefreshAppData reads the application's data again (IAM roles,
	// Connect security and routing profiles).
	RefreshAppData(ctx context.Context, appID string) (message string, err error)
	// PushPreview compares the app's assignments with the application's
	// users and lists the differences, changing nothing.
	PushPreview(ctx context.Context, appID string) ([]PushDifference, error)
	// PushNow queues the syncs that fix the differences and says how many.
	PushNow(ctx context.Context, appID string) (queued int, message string, err error)
}

// ProvisioningStatus is what the Provisioning tab shows.
type ProvisioningStatus struct {
	// Available is false for applications Gatehouse cannot provision.
	Available bool
	// Users says whether the application has users Gatehouse provisions
	// (Amazon Connect), with To App features, mappings and defaults.
	Users bool
	// APIIntegration is "Enable API Integration"; CredentialsSet says
	// whether keys are stored.
	APIIntegration bool
	CredentialsSet bool
	// The "To App" features.
	CreateUsers     bool
	UpdateUsers     bool
	DeactivateUsers bool
	// Mappings lists every attribute a mapping may set, in display order,
	// with an empty Expression when it is not mapped.
	Mappings []AttributeMapping
	Defaults ProvisioningDefaults
	// Task counts; LastError is the latest failure, in words for an admin.
	Pending, Running, Failed, Succeeded int
	LastError                           string
	// DataRefreshed is when the application data was last read.
	DataRefreshed time.Time
	// Notes are extra lines for the admin (imported roles, profiles).
	Notes []string
}

// AttributeMapping maps an application attribute from an expression over
// the Gatehouse profile. CreateOnly sets it only when the user is created
// (Okta's DONT_PUSH); otherwise updates send it too.
type AttributeMapping struct {
	Attribute  string
	Expression string
	CreateOnly bool
}

// ProvisioningDefaults are the settings of users whose assignment and
// groups choose nothing, and the deprovisioning choice.
type ProvisioningDefaults struct {
	SecurityProfiles []string
	RoutingProfile   string
	PhoneType        string
	// StripProfiles keeps a deprovisioned user with only Fallback instead
	// of deleting it.
	StripProfiles bool
	Fallback      string
}

// MappingPreview is what Gatehouse would send for one person.
type MappingPreview struct {
	Person, Login, UserName string
	Assigned                bool
	Scope                   catalog.Scope
	Rows                    []PreviewRow
	PhoneType               string
	SecurityProfiles        string
	SecurityFrom            string
	RoutingProfile          string
	RoutingFrom             string
	Problems                []string
	Sent                    bool
	Reason                  string
}

// PreviewRow is one attribute of a preview.
type PreviewRow struct {
	Attribute, Expression, Value, Error string
	CreateOnly                          bool
}

// TaskQuery selects provisioning tasks.
type TaskQuery struct {
	State string // "" for all
	After string
}

// TaskPage is one page of tasks.
type TaskPage struct {
	Tasks []Task
	Next  string
}

// Task is one provisioning task.
type Task struct {
	ID, What, UserID, Person, Login string
	State                           string
	Attempts, MaxAttempts           int
	LastError, Outcome              string
	Updated                         time.Time
}

// PushDifference is one difference "Push Now" found.
type PushDifference struct {
	UserID, UserName, Person, Problem, Action string
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
func (noProvisioning) SaveMappings(context.Context, string, []AttributeMapping) error {
	return notAvailable()
}
func (noProvisioning) Preview(context.Context, string, string, []AttributeMapping) (*MappingPreview, error) {
	return nil, notAvailable()
}
func (noProvisioning) SaveDefaults(context.Context, string, ProvisioningDefaults) error {
	return notAvailable()
}
func (noProvisioning) Tasks(context.Context, string, TaskQuery) (TaskPage, error) {
	return TaskPage{}, notAvailable()
}
func (noProvisioning) RetryTask(context.Context, string, string) (string, error) {
	return "", notAvailable()
}
func (noProvisioning) Retry(context.Context, string) (string, error) { return "", notAvailable() }
func (noProvisioning) RefreshAppData(context.Context, string) (string, error) {
	return "", notAvailable()
}
func (noProvisioning) PushPreview(context.Context, string) ([]PushDifference, error) {
	return nil, notAvailable()
}
func (noProvisioning) PushNow(context.Context, string) (int, string, error) {
	return 0, "", notAvailable()
}

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
	// Mappings: the table, or with EditMappings the form (MappingFields,
	// two inputs per attribute) and its PreviewField.
	EditMappings  bool
	MappingRows   []mappingRow
	PreviewField  Field
	Preview       *MappingPreview
	MappingErrors []string
	// Defaults: the values, or with EditDefaults the form.
	EditDefaults   bool
	DefaultFields  []Field
	DefaultErrors  []string
	DefaultsNotice string
	// Message is the outcome of a test or an action.
	Message string
}

// mappingRow is one attribute of the mappings form.
type mappingRow struct {
	Attribute  string
	Expression Field
	Apply      Field
}

const (
	applyAlways = "PUSH"
	applyCreate = "DONT_PUSH"
)

func mappingRows(ms []AttributeMapping) []mappingRow {
	out := make([]mappingRow, len(ms))
	for i, m := range ms {
		apply := applyAlways
		if m.CreateOnly {
			apply = applyCreate
		}
		sel := choice("apply."+m.Attribute, m.Attribute+": apply on", apply, applyAlways, applyCreate)
		sel.Options[0].Label, sel.Options[1].Label = "Create and update", "Create only"
		out[i] = mappingRow{Attribute: m.Attribute,
			Expression: Field{Name: "mappings." + m.Attribute, Label: m.Attribute, Type: "text", Value: m.Expression, Autocomplete: "off"},
			Apply:      sel}
	}
	return out
}

// mappingsFromForm reads the mappings form.
func mappingsFromForm(st ProvisioningStatus, form func(string) string) []AttributeMapping {
	out := make([]AttributeMapping, len(st.Mappings))
	for i, m := range st.Mappings {
		out[i] = AttributeMapping{Attribute: m.Attribute, Expression: strings.TrimSpace(form("mappings." + m.Attribute)),
			CreateOnly: form("apply."+m.Attribute) == applyCreate}
	}
	return out
}

func previewField(v string) Field {
	return Field{Name: "person", Label: "Preview for person", Type: "text", Value: v, Autocomplete: "off", Keys: []string{"person"},
		Help: "The username of a person: the preview shows what Gatehouse would send to the application for them."}
}

func (c *Console) provisioningData(r *http.Request, a *catalog.App, sub string) (provisioningData, error) {
	st, err := c.provisioning().Status(r.Context(), a.ID)
	if err != nil {
		return provisioningData{}, err
	}
	q := r.URL.Query()
	d := provisioningData{appHead: c.head(a, "provisioning"), Sub: sub, Status: st}
	if !st.Available {
		d.NotAvailable = NotAvailable + "."
	}
	if !st.DataRefreshed.IsZero() {
		d.Refreshed = fmtTime(&st.DataRefreshed)
	}
	d.Configure = st.APIIntegration || q.Get("configure") == "1"
	d.Fields = integrationFields(st, st.APIIntegration, "", "")
	d.Edit = q.Get("edit") == "1"
	d.Features = []Field{
		checkbox("createUsers", "Create Users", st.CreateUsers),
		checkbox("updateUsers", "Update User Attributes", st.UpdateUsers),
		checkbox("deactivateUsers", "Deactivate Users", st.DeactivateUsers),
	}
	d.Features[0].Help = "Create a user in the application when a person is assigned to it."
	d.Features[1].Help = "Send profile changes to the application."
	d.Features[2].Help = "When the person is unassigned or deactivated, remove the application's user or strip its security profiles (see Defaults)."
	d.EditMappings = q.Get("mappings") == "edit"
	d.MappingRows = mappingRows(st.Mappings)
	d.PreviewField = previewField(q.Get("preview"))
	d.EditDefaults = q.Get("defaults") == "edit"
	if d.EditDefaults {
		d.DefaultFields, d.DefaultsNotice = c.defaultFields(r.Context(), a.ID, st.Defaults)
	}
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

func (c *Console) renderProvisioning(w http.ResponseWriter, r *http.Request, rq *request, a *catalog.App, status int, d provisioningData, summary string) {
	name := "admin_app_provisioning"
	if d.Sub == "status" {
		name = "admin_app_provisioning_status"
	}
	if summary != "" {
		c.render(w, r, rq, status, name, a.Label, "apps", "", d, withError(summary))
		return
	}
	c.render(w, r, rq, status, name, a.Label, "apps", "", d)
}

func (c *Console) provisioningPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	a, d, err := c.appProvisioning(r, "integration")
	if err != nil {
		return err
	}
	c.renderProvisioning(w, r, rq, a, http.StatusOK, d, "")
	return nil
}

// appProvisioning loads the app of the request and its Provisioning tab.
func (c *Console) appProvisioning(r *http.Request, sub string) (*catalog.App, provisioningData, error) {
	a, err := c.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, provisioningData{}, err
	}
	d, err := c.provisioningData(r, a, sub)
	return a, d, err
}

func (c *Console) provisioningToApp(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, d, err := c.appProvisioning(r, "to-app")
	if err != nil {
		return err
	}
	if person := strings.TrimSpace(r.URL.Query().Get("preview")); person != "" && d.Status.Users {
		pv, err := c.provisioning().Preview(ctx, a.ID, person, nil)
		if err != nil {
			pf := []Field{d.PreviewField}
			summary, _ := c.provisioningProblem(r, []*[]Field{&pf}, &d.MappingErrors, err)
			d.PreviewField = pf[0]
			c.renderProvisioning(w, r, rq, a, http.StatusBadRequest, d, summary)
			return nil
		}
		d.Preview = pv
	}
	c.renderProvisioning(w, r, rq, a, http.StatusOK, d, "")
	return nil
}

// provisioningProblem renders a provisioning failure: field messages
// beside the inputs of groups, the rest in unclaimed or as the page's
// error. It returns the page's summary.
func (c *Console) provisioningProblem(r *http.Request, groups []*[]Field, unclaimed *[]string, err error) (string, bool) {
	if summary, fe, ok := fieldErrors(err); ok {
		var all []Field
		for _, g := range groups {
			all = append(all, *g...)
		}
		rest := bind(all, fe)
		for _, g := range groups {
			n := len(*g)
			copy(*g, all[:n])
			all = all[n:]
		}
		if unclaimed != nil {
			*unclaimed = rest
		}
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
	a, d, err := c.appProvisioning(r, "integration")
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
			c.renderProvisioning(w, r, rq, a, http.StatusOK, d, "")
			return nil
		}
		summary, _ := c.provisioningProblem(r, []*[]Field{&d.Fields}, &d.Unclaimed, err)
		c.renderProvisioning(w, r, rq, a, http.StatusBadRequest, d, summary)
		return nil
	}
	if err := c.provisioning().SaveCredentials(ctx, a.ID, enabled, access, secret); err != nil {
		summary, _ := c.provisioningProblem(r, []*[]Field{&d.Fields}, &d.Unclaimed, err)
		c.renderProvisioning(w, r, rq, a, http.StatusBadRequest, d, summary)
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
		summary, _ := c.provisioningProblem(r, []*[]Field{&d.Features}, &d.Unclaimed, err)
		c.renderProvisioning(w, r, rq, a, http.StatusBadRequest, d, summary)
		return nil
	}
	return done(w, r, "/admin/apps/"+a.ID+"/provisioning/to-app", "provisioning")
}

// provisioningMappings saves the attribute mappings (action save) or
// previews the typed ones for a person (action preview).
func (c *Console) provisioningMappings(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, d, err := c.appProvisioning(r, "to-app")
	if err != nil {
		return err
	}
	ms := mappingsFromForm(d.Status, r.PostFormValue)
	d.EditMappings = true
	d.MappingRows = mappingRows(ms)
	d.PreviewField = previewField(r.PostFormValue("person"))
	fields := make([]Field, 0, 2*len(d.MappingRows)+1)
	for _, row := range d.MappingRows {
		fields = append(fields, row.Expression, row.Apply)
	}
	fields = append(fields, d.PreviewField)
	fail := func(err error) error {
		summary, _ := c.provisioningProblem(r, []*[]Field{&fields}, &d.MappingErrors, err)
		for i := range d.MappingRows {
			d.MappingRows[i].Expression, d.MappingRows[i].Apply = fields[2*i], fields[2*i+1]
		}
		d.PreviewField = fields[len(fields)-1]
		c.renderProvisioning(w, r, rq, a, http.StatusBadRequest, d, summary)
		return nil
	}
	if r.PostFormValue("action") == "preview" {
		pv, err := c.provisioning().Preview(ctx, a.ID, r.PostFormValue("person"), ms)
		if err != nil {
			return fail(err)
		}
		d.Preview = pv
		c.renderProvisioning(w, r, rq, a, http.StatusOK, d, "")
		return nil
	}
	if err := c.provisioning().SaveMappings(ctx, a.ID, ms); err != nil {
		return fail(err)
	}
	path := "/admin/apps/" + a.ID + "/provisioning/to-app"
	if p := strings.TrimSpace(r.PostFormValue("person")); p != "" {
		path += "?preview=" + urlQuery(p)
	}
	return done(w, r, path+"#mappings", "mappings")
}

// defaultFields builds the Defaults form, offering the instance's profiles
// when Gatehouse can read them.
func (c *Console) defaultFields(ctx context.Context, appID string, d ProvisioningDefaults) ([]Field, string) {
	security, routing, err := c.connectProfiles().ConnectProfileOptions(ctx, appID)
	notice := ""
	if err != nil || (len(security) == 0 && len(routing) == 0) {
		notice = "Gatehouse could not read the Amazon Connect instance's profiles, so they are typed in; they are checked when you save."
		if err != nil {
			notice += " (" + errText(err) + ")"
		}
		security, routing = nil, nil
	}
	var out []Field
	if security == nil {
		out = append(out, Field{Name: "securityProfiles", Label: "Security profiles", Type: "text", Value: strings.Join(d.SecurityProfiles, ", "),
			Help: "Names of the security profiles of new Connect users, separated by commas."})
	} else {
		out = append(out, multiChoice("securityProfiles", "Security profiles", d.SecurityProfiles, security,
			"The security profiles of Connect users whose assignment and groups name none. Hold Ctrl (Cmd on a Mac) to choose several."))
	}
	if routing == nil {
		out = append(out, Field{Name: "routingProfile", Label: "Routing profile", Type: "text", Value: d.RoutingProfile})
	} else {
		f := choice("routingProfile", "Routing profile", d.RoutingProfile, routing...)
		f.Help = "The routing profile of Connect users whose assignment and groups name none."
		out = append(out, f)
	}
	phone := choice("phoneType", "Phone type", d.PhoneType, "SOFT_PHONE", "DESK_PHONE")
	phone.Options[0].Label, phone.Options[1].Label = "Soft phone", "Desk phone"
	out = append(out, phone)
	deprov := choice("deprovision", "When Deactivate Users removes a person", "delete", "delete", "strip")
	if d.StripProfiles {
		deprov = choice("deprovision", "When Deactivate Users removes a person", "strip", "delete", "strip")
	}
	deprov.Options[0].Label, deprov.Options[1].Label = "Delete the Connect user", "Only strip its security profiles"
	deprov.Help = "Stripping keeps the Connect user (and its history) with only the fallback security profile: Connect requires one."
	out = append(out, deprov)
	if security == nil {
		out = append(out, Field{Name: "fallbackSecurityProfile", Label: "Fallback security profile", Type: "text", Value: d.Fallback,
			Help: "The one security profile a stripped user keeps; best one that allows nothing."})
	} else {
		f := choice("fallbackSecurityProfile", "Fallback security profile", d.Fallback, append([]string{""}, security...)...)
		f.Options[0].Label = "(choose one)"
		f.Help = "The one security profile a stripped user keeps; best one that allows nothing."
		out = append(out, f)
	}
	return out, notice
}

// multiChoice is a multiple select of values with chosen selected; chosen
// values that are not offered stay, marked.
func multiChoice(name, label string, chosen, values []string, help string) Field {
	f := Field{Name: name, Label: label, Type: "multiselect", Help: help}
	sel := map[string]bool{}
	for _, v := range chosen {
		sel[strings.ToLower(v)] = true
	}
	known := map[string]bool{}
	for _, v := range values {
		known[strings.ToLower(v)] = true
		f.Options = append(f.Options, Option{Value: v, Label: v, Selected: sel[strings.ToLower(v)]})
	}
	for _, v := range chosen {
		if !known[strings.ToLower(v)] {
			f.Options = append(f.Options, Option{Value: v, Label: v + " (not in Connect)", Selected: true})
		}
	}
	return f
}

func defaultsFromForm(r *http.Request) ProvisioningDefaults {
	var sec []string
	for _, v := range r.PostForm["securityProfiles"] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				sec = append(sec, s)
			}
		}
	}
	return ProvisioningDefaults{SecurityProfiles: sec, RoutingProfile: strings.TrimSpace(r.PostFormValue("routingProfile")),
		PhoneType: r.PostFormValue("phoneType"), StripProfiles: r.PostFormValue("deprovision") == "strip",
		Fallback: strings.TrimSpace(r.PostFormValue("fallbackSecurityProfile"))}
}

func (c *Console) provisioningDefaults(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	in := defaultsFromForm(r)
	if r.PostFormValue("deprovision") != "delete" && r.PostFormValue("deprovision") != "strip" {
		err = errs.InvalidFields("Check the defaults.", errs.Field("deprovision", "Choose what happens to the Connect user."))
	} else {
		err = c.provisioning().SaveDefaults(ctx, a.ID, in)
	}
	if err == nil {
		return done(w, r, "/admin/apps/"+a.ID+"/provisioning/to-app#defaults", "provisioning")
	}
	d, derr := c.provisioningData(r, a, "to-app")
	if derr != nil {
		return derr
	}
	d.EditDefaults = true
	d.DefaultFields, d.DefaultsNotice = c.defaultFields(ctx, a.ID, in)
	summary, _ := c.provisioningProblem(r, []*[]Field{&d.DefaultFields}, &d.DefaultErrors, err)
	c.renderProvisioning(w, r, rq, a, http.StatusBadRequest, d, summary)
	return nil
}

func (c *Console) provisioningAction(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := c.provisioning()
	var act func(context.Context, string) (string, error)
	sub := "status"
	switch r.PathValue("action") {
	case "refresh":
		act, sub = p.RefreshAppData, "integration"
	case "retry":
		act = p.Retry
	default:
		return errs.NotFoundf("There is no provisioning action %q.", r.PathValue("action"))
	}
	msg, err := act(ctx, a.ID)
	if err == nil && sub == "status" {
		return done(w, r, "/admin/apps/"+a.ID+"/provisioning/status", "retried")
	}
	d, derr := c.provisioningData(r, a, sub)
	if derr != nil {
		return derr
	}
	if err != nil {
		summary, _ := c.provisioningProblem(r, []*[]Field{&d.Fields}, &d.Unclaimed, err)
		c.renderProvisioning(w, r, rq, a, http.StatusBadRequest, d, summary)
		return nil
	}
	d.Message = msg
	if d.Message == "" {
		d.Message = "Done."
	}
	c.renderProvisioning(w, r, rq, a, http.StatusOK, d, "")
	return nil
}

// The provisioning status: tasks, retries and "Push Now".

type statusData struct {
	provisioningData
	States  []Field
	Tasks   []Task
	Pager   Pager
	Filter  string
	Push    bool
	Diffs   []PushDifference
	Pushed  int
	Working int
}

// taskStates are the status filter's choices.
var taskStates = []string{"", "pending", "running", "failed", "succeeded", "canceled"}

func (c *Console) statusData(r *http.Request, a *catalog.App) (statusData, error) {
	pd, err := c.provisioningData(r, a, "status")
	if err != nil {
		return statusData{}, err
	}
	d := statusData{provisioningData: pd}
	st := choice("state", "Show", r.URL.Query().Get("state"), taskStates...)
	for i, o := range st.Options {
		if o.Value == "" {
			st.Options[i].Label = "All tasks"
		} else {
			st.Options[i].Label = strings.ToUpper(o.Value[:1]) + o.Value[1:]
		}
	}
	d.States = []Field{st}
	d.Working = pd.Status.Pending + pd.Status.Running
	return d, nil
}

func (c *Console) provisioningStatus(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := c.statusData(r, a)
	if err != nil {
		return err
	}
	if d.Status.Available {
		q := r.URL.Query()
		after, trail := cursor(q)
		d.Filter = q.Get("state")
		page, err := c.provisioning().Tasks(ctx, a.ID, TaskQuery{State: d.Filter, After: after})
		if err != nil {
			summary, _ := c.provisioningProblem(r, []*[]Field{&d.States}, &d.Unclaimed, err)
			c.render(w, r, rq, http.StatusBadRequest, "admin_app_provisioning_status", a.Label, "apps", "", d, withError(summary))
			return nil
		}
		d.Tasks = page.Tasks
		d.Pager = pager("/admin/apps/"+a.ID+"/provisioning/status", q, after, trail, page.Next, page.Next != "")
		if n, err := strconv.Atoi(q.Get("pushed")); err == nil && n > 0 {
			d.Pushed = n
		}
	}
	c.render(w, r, rq, http.StatusOK, "admin_app_provisioning_status", a.Label, "apps", "", d)
	return nil
}

func (c *Console) provisioningRetryTask(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	if _, err := c.provisioning().RetryTask(r.Context(), id, r.PathValue("taskId")); err != nil {
		return err
	}
	return done(w, r, "/admin/apps/"+id+"/provisioning/status", "retried1")
}

// provisioningPush shows the differences a push would fix (action
// preview) or queues the syncs (action apply).
func (c *Console) provisioningPush(w http.ResponseWriter, r *http.Request, rq *request) error {
	ctx := r.Context()
	a, err := c.Catalog.Store.App(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := c.provisioning()
	if r.PostFormValue("action") == "apply" {
		n, _, err := p.PushNow(ctx, a.ID)
		if err == nil {
			return done(w, r, "/admin/apps/"+a.ID+"/provisioning/status?pushed="+strconv.Itoa(n), "pushed")
		}
		d, derr := c.statusData(r, a)
		if derr != nil {
			return derr
		}
		summary, _ := c.provisioningProblem(r, nil, nil, err)
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_provisioning_status", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	d, err := c.statusData(r, a)
	if err != nil {
		return err
	}
	diffs, err := p.PushPreview(ctx, a.ID)
	if err != nil {
		summary, _ := c.provisioningProblem(r, nil, nil, err)
		c.render(w, r, rq, http.StatusBadRequest, "admin_app_provisioning_status", a.Label, "apps", "", d, withError(summary))
		return nil
	}
	d.Push, d.Diffs = true, diffs
	c.render(w, r, rq, http.StatusOK, "admin_app_provisioning_status", a.Label, "apps", "", d)
	return nil
}

// provisioningProgress answers the status page's progress script with the
// number of tasks still to run.
func (c *Console) provisioningProgress(w http.ResponseWriter, r *http.Request, rq *request) error {
	st, err := c.provisioning().Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(map[string]int{"pending": st.Pending, "running": st.Running, "failed": st.Failed, "succeeded": st.Succeeded})
}

// errText is an error's message for an admin.
func errText(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Msg
	}
	return err.Error()
}
