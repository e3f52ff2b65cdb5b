package amazonconnect

import (
	"strings"
	"testing"
)

func validSpec() UserSpec {
	return UserSpec{Username: "jdoe@example.com", IdentityInfo: IdentityInfo{FirstName: "Jane", LastName: "Doe"},
		SecurityProfileIDs: []string{"sp-agent"}, RoutingProfileID: "rp-basic"}
}

func TestUserSpecValidate(t *testing.T) {
	tests := []struct {
		name  string
		mut   func(*UserSpec)
		field string
		msg   string
	}{
		{name: "valid", mut: func(*UserSpec) {}},
		{name: "valid desk phone", mut: func(u *UserSpec) {
			u.PhoneConfig = PhoneConfig{PhoneType: DeskPhone, DeskPhoneNumber: "+14155550100", AfterContactWorkTimeLimit: 120, AutoAccept: true}
		}},
		{name: "valid full identity", mut: func(u *UserSpec) {
			u.IdentityInfo.Email, u.IdentityInfo.SecondaryEmail, u.IdentityInfo.Mobile = "jane@example.com", "j@example.org", "+442071838750"
		}},
		{name: "username with space", mut: func(u *UserSpec) { u.Username = "Jane Doe" }, field: "username", msg: "2 to 64"},
		{name: "username with plus", mut: func(u *UserSpec) { u.Username = "jane+1@example.com" }, field: "username", msg: "Amazon Connect"},
		{name: "username @ not email", mut: func(u *UserSpec) { u.Username = "jane@example" }, field: "username", msg: "email"},
		{name: "username too long", mut: func(u *UserSpec) { u.Username = strings.Repeat("a", 65) }, field: "username"},
		{name: "no first name", mut: func(u *UserSpec) { u.IdentityInfo.FirstName = "" }, field: "identityInfo.firstName", msg: "require a first name"},
		{name: "no last name", mut: func(u *UserSpec) { u.IdentityInfo.LastName = "  " }, field: "identityInfo.lastName"},
		{name: "first name 256", mut: func(u *UserSpec) { u.IdentityInfo.FirstName = strings.Repeat("é", 256) }, field: "identityInfo.firstName", msg: "255"},
		{name: "first name 255 ok", mut: func(u *UserSpec) { u.IdentityInfo.FirstName = strings.Repeat("é", 255) }},
		{name: "last name 301", mut: func(u *UserSpec) { u.IdentityInfo.LastName = strings.Repeat("x", 301) }, field: "identityInfo.lastName", msg: "300"},
		{name: "bad email", mut: func(u *UserSpec) { u.IdentityInfo.Email = "Jane <jane@example.com>" }, field: "identityInfo.email"},
		{name: "email without dot", mut: func(u *UserSpec) { u.IdentityInfo.Email = "jane@localhost" }, field: "identityInfo.email"},
		{name: "bad secondary email", mut: func(u *UserSpec) { u.IdentityInfo.SecondaryEmail = "nope" }, field: "identityInfo.secondaryEmail"},
		{name: "mobile not E.164", mut: func(u *UserSpec) { u.IdentityInfo.Mobile = "415-555-0100" }, field: "identityInfo.mobile", msg: "E.164"},
		{name: "unknown phone type", mut: func(u *UserSpec) { u.PhoneConfig.PhoneType = "VOIP" }, field: "phoneConfig.phoneType"},
		{name: "desk phone without number", mut: func(u *UserSpec) { u.PhoneConfig.PhoneType = DeskPhone }, field: "phoneConfig.deskPhoneNumber"},
		{name: "desk number not E.164", mut: func(u *UserSpec) { u.PhoneConfig = PhoneConfig{PhoneType: DeskPhone, DeskPhoneNumber: "0044 20"} }, field: "phoneConfig.deskPhoneNumber"},
		{name: "ACW too long", mut: func(u *UserSpec) { u.PhoneConfig.AfterContactWorkTimeLimit = 2000001 }, field: "phoneConfig.afterContactWorkTimeLimit"},
		{name: "ACW negative", mut: func(u *UserSpec) { u.PhoneConfig.AfterContactWorkTimeLimit = -1 }, field: "phoneConfig.afterContactWorkTimeLimit"},
		{name: "no security profile", mut: func(u *UserSpec) { u.SecurityProfileIDs = nil }, field: "securityProfileIds", msg: "at least one"},
		{name: "eleven security profiles", mut: func(u *UserSpec) {
			u.SecurityProfileIDs = strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")
		}, field: "securityProfileIds", msg: "at most 10"},
		{name: "ten after de-duplication ok", mut: func(u *UserSpec) {
			u.SecurityProfileIDs = strings.Split("a,b,c,d,e,f,g,h,i,j,a", ",")
		}},
		{name: "no routing profile", mut: func(u *UserSpec) { u.RoutingProfileID = "" }, field: "routingProfileId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := validSpec()
			tc.mut(&u)
			got := u.Normalize().Validate()
			if tc.field == "" {
				if len(got) != 0 {
					t.Fatalf("want valid, got %v", got)
				}
				return
			}
			for _, f := range got {
				if f.Field == tc.field && strings.Contains(f.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("want %s error containing %q, got %v", tc.field, tc.msg, got)
		})
	}
}

func TestNormalize(t *testing.T) {
	u := UserSpec{Username: " jdoe ", IdentityInfo: IdentityInfo{FirstName: "Jose\u0301", LastName: " Doe "},
		SecurityProfileIDs: []string{"a", " ", "a", "b"}}
	n := u.Normalize()
	if n.Username != "jdoe" || n.IdentityInfo.FirstName != "Jos\u00e9" || n.IdentityInfo.LastName != "Doe" ||
		n.PhoneConfig.PhoneType != SoftPhone || strings.Join(n.SecurityProfileIDs, ",") != "a,b" {
		t.Fatalf("%+v", n)
	}
}
