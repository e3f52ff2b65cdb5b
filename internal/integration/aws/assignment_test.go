package aws

import (
	"strings"
	"testing"
)

func TestValidateAssignment(t *testing.T) {
	multi := validAWS()
	multi.IdentityProviderArns = []string{provA, provB}
	tests := []struct {
		name     string
		s        Settings
		roles    []Role
		profile  map[string]any
		user     string
		connect  bool
		want     map[string]string // field → message substring
		wantNone bool
	}{
		{name: "valid", s: multi, roles: importedRoles(), profile: map[string]any{"role": "ConnectAgent", "samlRoles": []any{"ConnectAgent", "[prod] -- ReadOnly"}},
			user: "jdoe@example.com", connect: true, wantNone: true},
		{name: "role not imported", s: multi, roles: importedRoles(), profile: map[string]any{"role": "Okta_Role"}, user: "jdoe",
			want: map[string]string{"role": "not among the imported roles"}},
		{name: "samlRoles value not imported", s: multi, roles: importedRoles(), profile: map[string]any{"samlRoles": []any{"ConnectAgent", "Nope"}}, user: "jdoe",
			want: map[string]string{"samlRoles": "Nope"}},
		{name: "ambiguous name", s: multi, roles: importedRoles(), profile: map[string]any{"samlRoles": []any{"ReadOnly"}}, user: "jdoe",
			want: map[string]string{"samlRoles": `choose "[dev] -- ReadOnly" or "[prod] -- ReadOnly"`}},
		{name: "account without provider", s: multi, roles: importedRoles(), profile: map[string]any{"role": "Orphan"}, user: "jdoe",
			want: map[string]string{"role": "555555555555"}},
		{name: "no roles imported", s: multi, profile: map[string]any{"role": "ConnectAgent"}, user: "jdoe",
			want: map[string]string{"role": "No IAM roles are imported"}},
		{name: "empty samlRoles value", s: multi, roles: importedRoles(), profile: map[string]any{"samlRoles": []any{" "}}, user: "jdoe",
			want: map[string]string{"samlRoles": "empty"}},
		{name: "username with space", s: multi, roles: importedRoles(), profile: map[string]any{"role": "ConnectAgent"}, user: "Jane Doe",
			want: map[string]string{"userName": "RoleSessionName"}},
		{name: "username fine for AWS, not for Connect", s: multi, roles: importedRoles(), profile: map[string]any{"role": "ConnectAgent"}, user: "jdoe+1@example.com",
			connect: true, want: map[string]string{"userName": "Amazon Connect username"}},
		{name: "username fine for AWS app", s: multi, roles: importedRoles(), profile: map[string]any{"role": "ConnectAgent"}, user: "jdoe+1@example.com", wantNone: true},
		{name: "wrong types", s: multi, roles: importedRoles(), profile: map[string]any{"samlRoles": 5}, user: "jdoe",
			want: map[string]string{"samlRoles": "list"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ValidateAssignment(tc.s, tc.roles, tc.profile, tc.user, tc.connect)
			if tc.wantNone {
				if len(got) != 0 {
					t.Fatalf("want valid, got %v", got)
				}
				return
			}
			f := fieldsOf(got)
			for field, sub := range tc.want {
				if !strings.Contains(f[field], sub) {
					t.Errorf("%s: %q does not contain %q (all: %v)", field, f[field], sub, got)
				}
			}
		})
	}
}
