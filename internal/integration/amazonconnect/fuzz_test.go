package amazonconnect

import (
	"reflect"
	"testing"
)

// FuzzUserSpec feeds directory values (outside input) through Normalize,
// Validate and Plan: no panics, Normalize is idempotent, and a valid spec
// planned against itself needs no call.
func FuzzUserSpec(f *testing.F) {
	f.Add("jdoe@example.com", "Jane", "Doe", "jane@example.com", "+14155550100", "SOFT_PHONE", "sp", "rp")
	f.Add(" Jane Doe ", "Jose\u0301", "", "x", "0", "DESK_PHONE", "", "")
	f.Fuzz(func(t *testing.T, username, first, last, email, mobile, phoneType, sp, rp string) {
		u := UserSpec{Username: username, IdentityInfo: IdentityInfo{FirstName: first, LastName: last, Email: email, Mobile: mobile},
			PhoneConfig: PhoneConfig{PhoneType: phoneType, DeskPhoneNumber: mobile}, SecurityProfileIDs: []string{sp, sp}, RoutingProfileID: rp}
		n := u.Normalize()
		if !reflect.DeepEqual(n.Normalize(), n) {
			t.Fatalf("Normalize not idempotent: %+v", n)
		}
		if len(n.Validate()) > 0 {
			return
		}
		cur := &DescribedUser{Username: n.Username, IdentityInfo: n.IdentityInfo, PhoneConfig: n.PhoneConfig,
			SecurityProfileIDs: n.SecurityProfileIDs, RoutingProfileID: n.RoutingProfileID, HierarchyGroupID: n.HierarchyGroupID}
		if p := Plan(u, cur); len(p) != 0 {
			t.Fatalf("in-sync user needs %v", ops(p))
		}
	})
}
