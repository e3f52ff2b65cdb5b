package amazonconnect

import (
	"reflect"
	"testing"
)

func current() *DescribedUser {
	return &DescribedUser{ID: "u1", Username: "jdoe@example.com", IdentityInfo: IdentityInfo{FirstName: "Jane", LastName: "Doe"},
		PhoneConfig: PhoneConfig{PhoneType: SoftPhone}, SecurityProfileIDs: []string{"sp-agent"}, RoutingProfileID: "rp-basic"}
}

func ops(cs []Change) []Op {
	out := []Op{}
	for _, c := range cs {
		out = append(out, c.Op)
	}
	return out
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name string
		want func(*UserSpec)
		cur  func(*DescribedUser) *DescribedUser
		ops  []Op
	}{
		{name: "absent user is created", want: func(*UserSpec) {}, cur: func(*DescribedUser) *DescribedUser { return nil }, ops: []Op{OpCreate}},
		{name: "in sync", want: func(*UserSpec) {}, ops: []Op{}},
		{name: "phone type defaults compare equal", want: func(*UserSpec) {}, cur: func(c *DescribedUser) *DescribedUser {
			c.PhoneConfig = PhoneConfig{}
			return c
		}, ops: []Op{}},
		{name: "name change", want: func(u *UserSpec) { u.IdentityInfo.LastName = "Roe" }, ops: []Op{OpUpdateIdentityInfo}},
		{name: "email removed", want: func(*UserSpec) {}, cur: func(c *DescribedUser) *DescribedUser {
			c.IdentityInfo.Email = "old@example.com"
			return c
		}, ops: []Op{OpUpdateIdentityInfo}},
		{name: "security profiles reordered only", want: func(u *UserSpec) { u.SecurityProfileIDs = []string{"sp-b", "sp-agent"} },
			cur: func(c *DescribedUser) *DescribedUser {
				c.SecurityProfileIDs = []string{"sp-agent", "sp-b"}
				return c
			}, ops: []Op{}},
		{name: "security profile added", want: func(u *UserSpec) { u.SecurityProfileIDs = []string{"sp-agent", "sp-b"} }, ops: []Op{OpUpdateSecurityProfiles}},
		{name: "routing and phone", want: func(u *UserSpec) {
			u.RoutingProfileID = "rp-2"
			u.PhoneConfig.AutoAccept = true
		}, ops: []Op{OpUpdateRoutingProfile, OpUpdatePhoneConfig}},
		{name: "hierarchy removed", want: func(*UserSpec) {}, cur: func(c *DescribedUser) *DescribedUser {
			c.HierarchyGroupID = "h1"
			return c
		}, ops: []Op{OpUpdateHierarchy}},
		{name: "everything", want: func(u *UserSpec) {
			u.IdentityInfo.FirstName, u.SecurityProfileIDs, u.RoutingProfileID = "J", []string{"x"}, "rp-2"
			u.PhoneConfig, u.HierarchyGroupID = PhoneConfig{PhoneType: DeskPhone, DeskPhoneNumber: "+14155550100"}, "h2"
		}, ops: []Op{OpUpdateIdentityInfo, OpUpdateSecurityProfiles, OpUpdateRoutingProfile, OpUpdatePhoneConfig, OpUpdateHierarchy}},
		{name: "renamed username", want: func(u *UserSpec) { u.Username = "jane.doe@example.com" }, ops: []Op{OpDelete, OpCreate}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := validSpec()
			tc.want(&u)
			cur := current()
			if tc.cur != nil {
				cur = tc.cur(cur)
			}
			got := Plan(u, cur)
			if !reflect.DeepEqual(ops(got), tc.ops) {
				t.Fatalf("plan %v, want %v", ops(got), tc.ops)
			}
			for _, c := range got {
				if !reflect.DeepEqual(c.Spec, u.Normalize()) {
					t.Fatalf("change carries %+v", c.Spec)
				}
			}
		})
	}
}
