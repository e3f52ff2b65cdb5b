package oktaapi

import (
	"reflect"
	"testing"
)

func TestParseUserFields(t *testing.T) {
	for _, c := range []struct {
		in      string
		top     []string
		profile []string
		bad     bool
	}{
		{in: "status", top: []string{"status"}},
		{in: "status,profile:(firstName, city)", top: []string{"status", "profile"}, profile: []string{"firstName", "city"}},
		{in: " id , status , profile:( firstName ) ", top: []string{"id", "status", "profile"}, profile: []string{"firstName"}},
		{in: "profile:(firstName),lastLogin", top: []string{"profile", "lastLogin"}, profile: []string{"firstName"}},
		{in: "profile", top: []string{"profile"}},
		{in: "status,", bad: true},
		{in: ",status", bad: true},
		{in: "profile:(firstName", bad: true},
		{in: "status)", bad: true},
		{in: "credentials:(password)", bad: true},
		{in: "profile:(firstName)x", bad: true},
	} {
		f, err := parseUserFields(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("%q: accepted %+v", c.in, f)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		top := map[string]bool{}
		for _, k := range c.top {
			top[k] = true
		}
		var profile map[string]bool
		if c.profile != nil {
			profile = map[string]bool{}
			for _, k := range c.profile {
				profile[k] = true
			}
		}
		if !reflect.DeepEqual(f.top, top) || !reflect.DeepEqual(f.profile, profile) {
			t.Errorf("%q: %+v %+v", c.in, f.top, f.profile)
		}
	}
	if f, err := parseUserFields(""); f != nil || err != nil {
		t.Errorf("empty: %v %v", f, err)
	}
}
