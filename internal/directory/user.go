// Package directory holds people and groups: the user profile and its
// schema, Okta's lifecycle state machine, passwords and group membership.
// It is storage-agnostic; Store is implemented by sqlstore.
package directory

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is a user's lifecycle status, as in Okta.
type Status string

// Lifecycle statuses.
const (
	Staged          Status = "STAGED"
	Provisioned     Status = "PROVISIONED"
	Active          Status = "ACTIVE"
	Recovery        Status = "RECOVERY"
	PasswordExpired Status = "PASSWORD_EXPIRED"
	LockedOut       Status = "LOCKED_OUT"
	Suspended       Status = "SUSPENDED"
	Deprovisioned   Status = "DEPROVISIONED"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case Staged, Provisioned, Active, Recovery, PasswordExpired, LockedOut, Suspended, Deprovisioned:
		return true
	}
	return false
}

// Profile is a user's profile: base attributes and custom ones, by name.
type Profile map[string]any

// String returns a string attribute, or "".
func (p Profile) String(name string) string {
	if v, ok := p[name].(string); ok {
		return v
	}
	return ""
}

// User is a person in the directory.
type User struct {
	ID              string
	Status          Status
	Created         time.Time
	Activated       *time.Time
	StatusChanged   *time.Time
	LastLogin       *time.Time
	LastUpdated     time.Time
	PasswordChanged *time.Time
	Profile         Profile
	Credentials     Credentials
	// FailedLogins counts consecutive failed password attempts.
	FailedLogins int
	// Version increases with every write; used to detect lost updates.
	Version int64
	// SearchKey is set by a People search (UserQuery.Q without a filter)
	// to the key the user matched by (the smallest of login, email, first
	// and last name, lower-cased as the store compares them); the results
	// are ordered by it, then id. Not stored.
	SearchKey string
}

// Cursor is the After value that continues a list after u: u's id, and for
// a People search also the key u was ordered by (id "." base64url(key)).
func Cursor(u *User) string {
	if u.SearchKey == "" {
		return u.ID
	}
	return u.ID + "." + base64.RawURLEncoding.EncodeToString([]byte(u.SearchKey))
}

// ParseCursor splits a Cursor into id and search key; ok is false for a
// bare id.
func ParseCursor(after string) (id, key string, ok bool) {
	id, enc, found := strings.Cut(after, ".")
	if !found {
		return after, "", false
	}
	k, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !utf8.Valid(k) || strings.ContainsRune(string(k), 0) {
		return after, "", false
	}
	return id, string(k), true
}

// Login returns the user's login.
func (u *User) Login() string { return u.Profile.String("login") }

// DisplayName returns a readable name for logs and pages.
func (u *User) DisplayName() string {
	if d := u.Profile.String("displayName"); d != "" {
		return d
	}
	n := u.Profile.String("firstName") + " " + u.Profile.String("lastName")
	if n == " " {
		return u.Login()
	}
	return n
}

// Credentials are a user's stored secrets. PasswordHash is an encoded hash
// (argon2id PHC string, or an imported legacy hash awaiting rehash).
type Credentials struct {
	PasswordHash     string   `json:"passwordHash,omitempty"`
	PasswordHistory  []string `json:"passwordHistory,omitempty"`
	RecoveryQuestion string   `json:"recoveryQuestion,omitempty"`
	RecoveryAnswer   string   `json:"recoveryAnswerHash,omitempty"`
	Provider         string   `json:"provider,omitempty"` // OKTA, FEDERATION, SOCIAL
}

// HasPassword reports whether a password is set.
func (c Credentials) HasPassword() bool { return c.PasswordHash != "" }

// Group is an OKTA_GROUP: a named set of users.
type Group struct {
	ID                    string
	Type                  string // OKTA_GROUP
	Name                  string
	Description           string
	Created               time.Time
	LastUpdated           time.Time
	LastMembershipUpdated time.Time
}

// BaseAttributes are the attributes of Okta's base user profile, in the
// order Okta lists them.
var BaseAttributes = []string{
	"login", "email", "secondEmail", "firstName", "lastName", "middleName",
	"honorificPrefix", "honorificSuffix", "title", "displayName", "nickName",
	"profileUrl", "primaryPhone", "mobilePhone", "streetAddress", "city",
	"state", "zipCode", "postalAddress", "countryCode", "preferredLanguage",
	"locale", "timezone", "userType", "employeeNumber", "costCenter",
	"organization", "division", "department", "managerId", "manager",
}

// IsBaseAttribute reports whether name is a base profile attribute.
func IsBaseAttribute(name string) bool {
	for _, b := range BaseAttributes {
		if b == name {
			return true
		}
	}
	return false
}
