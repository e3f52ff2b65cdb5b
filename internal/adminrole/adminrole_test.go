package adminrole

import "testing"

func TestAssignmentID(t *testing.T) {
	a := AssignmentID("00u1", SuperAdmin)
	if a != AssignmentID("00u1", SuperAdmin) || len(a) != 20 || a[:2] != "ra" {
		t.Fatalf("id %q is not stable or not Okta-shaped", a)
	}
	seen := map[string]bool{}
	for _, u := range []string{"00u1", "00u2", "00u10"} {
		for _, r := range Types {
			id := AssignmentID(u, r)
			if seen[id] {
				t.Fatalf("%s %s: id %s repeats", u, r, id)
			}
			seen[id] = true
		}
	}
}

func TestHighest(t *testing.T) {
	for _, c := range []struct {
		roles []string
		want  string
	}{
		{nil, ""},
		{[]string{ReadOnlyAdmin}, ReadOnlyAdmin},
		{[]string{ReadOnlyAdmin, AppAdmin}, AppAdmin},
		{[]string{AppAdmin, SuperAdmin, ReadOnlyAdmin}, SuperAdmin},
		{[]string{"ORG_ADMIN"}, ""},
	} {
		if got := Highest(c.roles); got != c.want {
			t.Errorf("Highest(%v) = %q, want %q", c.roles, got, c.want)
		}
	}
}

func TestGroupAssignmentID(t *testing.T) {
	a := GroupAssignmentID("00g1", SuperAdmin)
	if a != GroupAssignmentID("00g1", SuperAdmin) || len(a) != 20 || a[:3] != "gra" {
		t.Fatalf("id %q is not stable or not Okta-shaped", a)
	}
	// Never the id of a person's assignment, even for the same id string.
	if a == AssignmentID("00g1", SuperAdmin) || GroupAssignmentID("00g1", AppAdmin) == a || GroupAssignmentID("00g2", SuperAdmin) == a {
		t.Fatalf("ids repeat")
	}
	if (Grant{UserID: "00u1", GroupID: "00g1", Role: AppAdmin}).ID() != GroupAssignmentID("00g1", AppAdmin) ||
		(Grant{UserID: "00u1", Role: AppAdmin}).ID() != AssignmentID("00u1", AppAdmin) {
		t.Fatal("Grant.ID")
	}
}
