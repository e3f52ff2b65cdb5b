package amazonconnect

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/gatehouse/gatehouse/internal/errs"
	ghaws "github.com/gatehouse/gatehouse/internal/integration/aws"
)

// Phone types.
const (
	SoftPhone = "SOFT_PHONE"
	DeskPhone = "DESK_PHONE"
)

// Limits of Connect's user shapes (API model, 2025-2026).
const (
	MaxFirstName                 = 255
	MaxLastName                  = 300
	MaxSecurityProfiles          = 10
	MaxAfterContactWorkTimeLimit = 2000000
)

// IdentityInfo is the Connect user's UserIdentityInfo.
type IdentityInfo struct {
	FirstName      string
	LastName       string
	Email          string
	SecondaryEmail string
	Mobile         string // E.164
}

// PhoneConfig is the Connect user's UserPhoneConfig.
type PhoneConfig struct {
	PhoneType                 string // SOFT_PHONE (default) or DESK_PHONE
	AutoAccept                bool
	AfterContactWorkTimeLimit int32  // seconds, 0-2,000,000
	DeskPhoneNumber           string // E.164; required for DESK_PHONE
}

// UserSpec is the Connect user a person should be. It has no Password and
// no DirectoryUserId: for instances with SAML identity management AWS
// rejects both.
type UserSpec struct {
	Username           string // equals the SAML RoleSessionName (the app username)
	IdentityInfo       IdentityInfo
	PhoneConfig        PhoneConfig
	SecurityProfileIDs []string // 1-10
	RoutingProfileID   string
	HierarchyGroupID   string // optional
}

// Normalize returns the spec with surrounding spaces trimmed, names in
// Unicode NFC (Connect stores them so), the default phone type, and security
// profiles de-duplicated.
func (u UserSpec) Normalize() UserSpec {
	u.Username = strings.TrimSpace(u.Username)
	u.IdentityInfo.FirstName = norm.NFC.String(strings.TrimSpace(u.IdentityInfo.FirstName))
	u.IdentityInfo.LastName = norm.NFC.String(strings.TrimSpace(u.IdentityInfo.LastName))
	u.IdentityInfo.Email = strings.TrimSpace(u.IdentityInfo.Email)
	u.IdentityInfo.SecondaryEmail = strings.TrimSpace(u.IdentityInfo.SecondaryEmail)
	u.IdentityInfo.Mobile = strings.TrimSpace(u.IdentityInfo.Mobile)
	u.PhoneConfig.DeskPhoneNumber = strings.TrimSpace(u.PhoneConfig.DeskPhoneNumber)
	if u.PhoneConfig.PhoneType == "" {
		u.PhoneConfig.PhoneType = SoftPhone
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range u.SecurityProfileIDs {
		if id = strings.TrimSpace(id); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	u.SecurityProfileIDs = ids
	u.RoutingProfileID = strings.TrimSpace(u.RoutingProfileID)
	u.HierarchyGroupID = strings.TrimSpace(u.HierarchyGroupID)
	return u
}

var reE164 = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)

// Validate checks a normalized spec against Amazon Connect's rules for
// users of a SAML instance and reports every problem. Field names follow
// the Connect API (username, identityInfo.firstName, …).
func (u UserSpec) Validate() []errs.FieldError {
	var out []errs.FieldError
	add := func(field, format string, args ...any) { out = append(out, errs.Field(field, format, args...)) }
	if err := ghaws.CheckRoleSessionName(u.Username, true); err != nil {
		add("username", "%s; the Connect username must equal the RoleSessionName Gatehouse sends. Got %q.", ruleOf(err), u.Username)
	}
	id := u.IdentityInfo
	switch n := utf8.RuneCountInString(id.FirstName); {
	case n == 0:
		add("identityInfo.firstName", "Connect instances with SAML sign-in require a first name; map one in the app's attribute mappings.")
	case n > MaxFirstName:
		add("identityInfo.firstName", "First name must be at most %d characters; it has %d.", MaxFirstName, n)
	}
	switch n := utf8.RuneCountInString(id.LastName); {
	case n == 0:
		add("identityInfo.lastName", "Connect instances with SAML sign-in require a last name; map one in the app's attribute mappings.")
	case n > MaxLastName:
		add("identityInfo.lastName", "Last name must be at most %d characters; it has %d.", MaxLastName, n)
	}
	for _, e := range []struct{ field, v string }{{"identityInfo.email", id.Email}, {"identityInfo.secondaryEmail", id.SecondaryEmail}} {
		if e.v == "" {
			continue
		}
		if a, err := mail.ParseAddress(e.v); err != nil || a.Address != e.v || !strings.Contains(e.v[strings.LastIndex(e.v, "@")+1:], ".") {
			add(e.field, "%q is not an email address such as agent@example.com.", e.v)
		}
	}
	if id.Mobile != "" && !reE164.MatchString(id.Mobile) {
		add("identityInfo.mobile", "Mobile must be an E.164 number such as +14155550100 (a +, the country code, no spaces).")
	}
	p := u.PhoneConfig
	switch p.PhoneType {
	case SoftPhone:
	case DeskPhone:
		if p.DeskPhoneNumber == "" {
			add("phoneConfig.deskPhoneNumber", "A desk phone needs its number in E.164 form, such as +14155550100.")
		}
	default:
		add("phoneConfig.phoneType", "Phone type must be SOFT_PHONE or DESK_PHONE; got %q.", p.PhoneType)
	}
	if p.DeskPhoneNumber != "" && !reE164.MatchString(p.DeskPhoneNumber) {
		add("phoneConfig.deskPhoneNumber", "Desk phone number must be an E.164 number such as +14155550100.")
	}
	if p.AfterContactWorkTimeLimit < 0 || p.AfterContactWorkTimeLimit > MaxAfterContactWorkTimeLimit {
		add("phoneConfig.afterContactWorkTimeLimit", "After-contact work time limit must be 0 to %d seconds.", MaxAfterContactWorkTimeLimit)
	}
	switch n := len(u.SecurityProfileIDs); {
	case n == 0:
		add("securityProfileIds", "Choose at least one security profile (for agents, usually Agent).")
	case n > MaxSecurityProfiles:
		add("securityProfileIds", "A Connect user can have at most %d security profiles; %d are chosen.", MaxSecurityProfiles, n)
	}
	if u.RoutingProfileID == "" {
		add("routingProfileId", "Choose a routing profile (for example Basic Routing Profile).")
	}
	return out
}

func ruleOf(err error) string {
	if sn, ok := err.(*ghaws.SessionNameError); ok {
		return sn.Rule
	}
	return err.Error()
}
