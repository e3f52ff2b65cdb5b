package oktaapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awsapp"
)

// FuzzMappingUpdate feeds arbitrary Profile Mapping update bodies to the
// parser: it never panics, refuses what it does not apply, and applies
// only Connect attributes with non-empty expressions and known push
// statuses.
func FuzzMappingUpdate(f *testing.F) {
	for _, s := range []string{
		`{"properties":{"FirstName":{"expression":"user.firstName","pushStatus":"PUSH"}}}`,
		`{"properties":{"Email":null,"Mobile":{"expression":"user.mobilePhone","pushStatus":"DONT_PUSH"}}}`,
		`{"properties":{"Nickname":{"expression":"x"}}}`,
		`{"properties":{"Email":{"expression":"","pushStatus":"NEVER"}}}`,
		`{"properties":{"Email":"user.email"}}`,
		`{"properties":{"Email":{"expression":"a","extra":1}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var in struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		mappings := map[string]string{"FirstName": "user.firstName"}
		push := map[string]string{"FirstName": awsapp.Push}
		fe := applyMappingUpdate(in.Properties, mappings, push)
		for k, v := range mappings {
			if !isMappedAttr(k) || strings.TrimSpace(v) == "" {
				t.Fatalf("applied %q = %q", k, v)
			}
		}
		for k, v := range push {
			if !isMappedAttr(k) || (v != awsapp.Push && v != awsapp.DontPush) {
				t.Fatalf("push status %q = %q", k, v)
			}
		}
		for _, e := range fe {
			if !strings.HasPrefix(e.Field, "properties.") || e.Message == "" {
				t.Fatalf("cause %+v", e)
			}
		}
	})
}
