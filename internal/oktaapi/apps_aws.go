package oktaapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/errs"
	ghaws "github.com/gatehouse/gatehouse/internal/integration/aws"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// AWSApps serves Gatehouse's extensions for AWS and Amazon Connect apps:
// the API integration ("Test API Credentials", "Refresh Application
// Data"), the app-user schema with the imported roles, provisioning
// settings, job status, retries and reconciliation.
type AWSApps struct {
	API         *API
	Integration *awsapp.Integration
	Queue       *provisioning.Queue
}

// Mount registers the routes.
func (h *AWSApps) Mount(m *Mux) {
	m.Handle("POST /api/v1/apps/{id}/credentials/test", AppAccess, h.testCredentials)
	m.Handle("POST /api/v1/apps/{id}/refresh", AppAccess, h.refresh)
	m.Handle("GET /api/v1/apps/{id}/aws/roles", ReadAccess, h.roles)
	m.Handle("GET /api/v1/meta/schemas/apps/{id}/default", ReadAccess, h.appUserSchema)
	m.Handle("GET /api/v1/apps/{id}/provisioning", ReadAccess, h.getProvisioning)
	m.Handle("PUT /api/v1/apps/{id}/provisioning", AppAccess, h.putProvisioning)
	m.Handle("GET /api/v1/apps/{id}/provisioning/status", ReadAccess, h.status)
	m.Handle("GET /api/v1/apps/{id}/provisioning/jobs", ReadAccess, h.jobs)
	m.Handle("POST /api/v1/apps/{id}/provisioning/jobs/{jobId}/retry", AppAccess, h.retry)
	m.Handle("POST /api/v1/apps/{id}/provisioning/retry", AppAccess, h.retryFailed)
	m.Handle("POST /api/v1/apps/{id}/provisioning/push", AppAccess, h.push)
}

func awsError(err error) error {
	var ae *ghaws.APIError
	if errors.As(err, &ae) {
		return &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "AWS refused the request: " + ae.Error(),
			Fields: []errs.FieldError{{Field: "aws", Message: ae.Error()}}}
	}
	return err
}

func (h *AWSApps) testCredentials(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	if r.ContentLength != 0 {
		if err := DecodeStrict(r, &in, []string{"accessKey", "secretKey"}); err != nil {
			return err
		}
	}
	id, err := h.Integration.TestCredentials(r.Context(), r.PathValue("id"), in.AccessKey, in.SecretKey)
	if err != nil {
		return awsError(err)
	}
	return WriteJSON(w, map[string]any{"status": "SUCCESS", "account": id.Account, "arn": id.Arn, "userId": id.UserID})
}

func roleJSON(rs []ghaws.Role) []map[string]any {
	out := make([]map[string]any, len(rs))
	for i, r := range rs {
		out[i] = map[string]any{"arn": r.Arn, "name": r.Name, "accountId": r.AccountID, "accountAlias": r.AccountAlias, "providerArns": r.ProviderArns}
	}
	return out
}

func (h *AWSApps) refresh(w http.ResponseWriter, r *http.Request) error {
	roles, err := h.Integration.RefreshRoles(r.Context(), r.PathValue("id"))
	if err != nil {
		return awsError(err)
	}
	return WriteJSON(w, map[string]any{"roles": roleJSON(roles)})
}

func (h *AWSApps) roles(w http.ResponseWriter, r *http.Request) error {
	roles, _, err := h.Integration.Roles(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, roleJSON(roles))
}

// appUserSchema is Okta's app-user schema: for AWS apps, role and
// samlRoles with the imported roles as their allowed values.
func (h *AWSApps) appUserSchema(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	a, err := h.Integration.Catalog.Store.App(r.Context(), id)
	if err != nil {
		return err
	}
	props := map[string]any{}
	if awsapp.IsAWSApp(a.Name) {
		opts, err := h.Integration.RoleOptions(r.Context(), id)
		if err != nil {
			return err
		}
		enum := make([]any, len(opts))
		oneOf := make([]any, len(opts))
		for i, o := range opts {
			enum[i] = o
			oneOf[i] = map[string]any{"const": o, "title": o}
		}
		props["role"] = map[string]any{"title": "Role", "type": "string", "enum": enum, "oneOf": oneOf, "scope": "NONE", "master": map[string]any{"type": "PROFILE_MASTER"}}
		props["samlRoles"] = map[string]any{"title": "SAML User Roles", "type": "array", "union": "DISABLE",
			"items": map[string]any{"type": "string", "enum": enum, "oneOf": oneOf}, "scope": "NONE", "master": map[string]any{"type": "PROFILE_MASTER"}}
		if a.Name == awsapp.Connect {
			props["connectSecurityProfiles"] = map[string]any{"title": "Amazon Connect security profiles", "type": "array", "items": map[string]any{"type": "string"}, "scope": "NONE"}
			props["connectRoutingProfile"] = map[string]any{"title": "Amazon Connect routing profile", "type": "string", "scope": "NONE"}
		}
	}
	return WriteJSON(w, map[string]any{
		"id": h.API.BaseURL + "/meta/schemas/apps/" + id + "/default", "$schema": "http://json-schema.org/draft-04/schema#",
		"name": a.Name, "title": a.Label + " User", "type": "object",
		"definitions": map[string]any{"base": map[string]any{"id": "#base", "type": "object", "properties": props, "required": []string{}},
			"custom": map[string]any{"id": "#custom", "type": "object", "properties": map[string]any{}, "required": []string{}}},
		"properties": map[string]any{"profile": map[string]any{"allOf": []any{map[string]any{"$ref": "#/definitions/custom"}, map[string]any{"$ref": "#/definitions/base"}}}},
	})
}

func (h *AWSApps) getProvisioning(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.Integration.Catalog.Store.App(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	p, err := h.Integration.Provisioning(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, p)
}

func (h *AWSApps) putProvisioning(w http.ResponseWriter, r *http.Request) error {
	var p awsapp.ProvisioningSettings
	if err := DecodeStrict(r, &p, []string{"apiIntegration", "createUsers", "updateUsers", "deactivateUsers", "mappings", "dontPush",
		"securityProfiles", "routingProfile", "phoneType", "deprovision", "fallbackSecurityProfile", "apiRate", "apiBurst"}); err != nil {
		return err
	}
	if err := h.Integration.SaveProvisioning(r.Context(), r.PathValue("id"), p); err != nil {
		return err
	}
	saved, err := h.Integration.Provisioning(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return WriteJSON(w, saved)
}

func jobJSON(j *provisioning.Job) map[string]any {
	return map[string]any{"id": j.ID, "kind": j.Kind, "appId": j.AppID, "userId": j.UserID, "state": string(j.State),
		"attempts": j.Attempts, "maxAttempts": j.MaxAttempts, "runAfter": Time(j.RunAfter), "lastError": nilIfEmpty(j.LastError),
		"created": Time(j.Created), "lastUpdated": Time(j.Updated), "result": j.Result}
}

func (h *AWSApps) status(w http.ResponseWriter, r *http.Request) error {
	st, err := h.Queue.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	fails := make([]map[string]any, len(st.RecentFailures))
	for i, j := range st.RecentFailures {
		fails[i] = jobJSON(j)
	}
	counts := map[string]int{}
	for k, v := range st.Counts {
		counts[string(k)] = v
	}
	return WriteJSON(w, map[string]any{"counts": counts, "recentFailures": fails})
}

func (h *AWSApps) jobs(w http.ResponseWriter, r *http.Request) error {
	limit, err := Limit(r, 100, 1000)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	js, next, err := h.Queue.List(r.Context(), provisioning.Filter{AppID: r.PathValue("id"), State: provisioning.State(q.Get("state")), UserID: q.Get("userId")}, q.Get("after"), limit)
	if err != nil {
		return err
	}
	h.API.LinkHeaders(w, r, next)
	out := make([]map[string]any, len(js))
	for i, j := range js {
		out[i] = jobJSON(j)
	}
	return WriteJSON(w, out)
}

func (h *AWSApps) retry(w http.ResponseWriter, r *http.Request) error {
	j, err := h.Queue.Retry(r.Context(), r.PathValue("jobId"))
	if err != nil {
		return err
	}
	if j.AppID != r.PathValue("id") {
		return errs.NotFoundf("Not found: Resource not found: %s (Job)", j.ID)
	}
	return WriteJSON(w, jobJSON(j))
}

// retryFailed queues every failed job of the app again.
func (h *AWSApps) retryFailed(w http.ResponseWriter, r *http.Request) error {
	a, err := h.Integration.Catalog.Store.App(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	n, err := h.Queue.RetryFailed(r.Context(), a.ID)
	if err != nil {
		return err
	}
	return WriteJSON(w, map[string]any{"retried": n})
}

// push reconciles the app with Amazon Connect now; ?dryRun=true only
// reports the differences.
func (h *AWSApps) push(w http.ResponseWriter, r *http.Request) error {
	dry, err := strconv.ParseBool(r.URL.Query().Get("dryRun"))
	if err != nil && r.URL.Query().Get("dryRun") != "" {
		return errs.InvalidFields("Api validation failed: dryRun", errs.Field("dryRun", "dryRun: must be true or false"))
	}
	d, err := h.Integration.Reconcile(r.Context(), r.PathValue("id"), dry)
	if err != nil {
		return awsError(err)
	}
	return WriteJSON(w, map[string]any{"dryRun": dry, "differences": d})
}
