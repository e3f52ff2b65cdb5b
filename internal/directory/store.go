package directory

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/filter"
)

// UserQuery selects users for a list.
type UserQuery struct {
	Filter filter.Expr // Okta `filter`
	Search filter.Expr // Okta `search`
	Q      string      // prefix match on login, email, firstName, lastName
	After  string      // cursor: the last id of the previous page
	Limit  int
	// IncludeDeprovisioned lists DEPROVISIONED users too; Okta omits them
	// unless a filter or search asks for them.
	IncludeDeprovisioned bool
	// SortBy orders the users by one attribute (Okta's sortBy: "id",
	// "status", a top-level timestamp or "profile.<name>"; empty is id),
	// SortDesc in descending order. Ties are broken by id, and After
	// stays the id of the last user of the previous page.
	SortBy   string
	SortDesc bool
}

// GroupQuery selects groups for a list.
type GroupQuery struct {
	Q      string // prefix of the name
	Filter filter.Expr
	// SortBy orders the groups by one attribute (Okta's sortBy, for
	// search queries: "id", "type", "profile.name", "profile.description",
	// "created", "lastUpdated", "lastMembershipUpdated"; "" is id order),
	// SortDesc in descending order. Ties are broken by id, and After
	// continues after the cursor group's position in that order.
	SortBy   string
	SortDesc bool
	After    string
	Limit    int
}

// Store reads and writes the directory.
type Store interface {
	User(ctx context.Context, idOrLogin string) (*User, error)
	Users(ctx context.Context, q UserQuery) ([]*User, error)
	Group(ctx context.Context, id string) (*Group, error)
	Groups(ctx context.Context, q GroupQuery) ([]*Group, error)
	GroupMembers(ctx context.Context, groupID, after string, limit int) ([]*User, error)
	// GroupMemberCounts counts the members of each of the given groups in
	// one query (a page of groups, not one group at a time): the users
	// GroupMembers lists, whatever their status. A group without members,
	// or unknown, is absent from the map.
	GroupMemberCounts(ctx context.Context, groupIDs []string) (map[string]int, error)
	UserGroups(ctx context.Context, userID string) ([]*Group, error)
	Schema(ctx context.Context) (*Schema, error)
	// PasswordHash reads only the password hash of a user by id or login
	// ("" when the user has none): what a sign-in checks before its
	// transaction, at the cost of one small column, not the whole row.
	PasswordHash(ctx context.Context, idOrLogin string) (string, error)
	// Update runs fn in one transaction; every write and its audit
	// events commit together or not at all.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is the write side of Store, inside one transaction.
// BulkTx is a Tx that writes many users or events per statement (the
// import's path; see ImportUsers). InsertUsers fails with the login
// conflict when any login is taken; AppendEvents keeps the given order.
type BulkTx interface {
	InsertUsers(us []*User) error
	AppendEvents(evs []audit.Event) error
}

type Tx interface {
	// UserForUpdate reads a user by id or login and locks it until commit.
	UserForUpdate(idOrLogin string) (*User, error)
	InsertUser(u *User) error
	// UpdateUser writes u; it fails with a Conflict when u.Version is not
	// the stored version, and increments u.Version.
	UpdateUser(u *User) error
	// CountFailedSignIn adds one to the consecutive failed sign-ins of the
	// user with this login (lower-cased like every login key), if there is
	// one. It runs for unknown logins too, so that both failures do the
	// same work.
	CountFailedSignIn(login string) error
	// RecordSignIn writes a successful sign-in of u at u.LastLogin: the
	// last sign-in time and a zero failure count, nothing else (a sign-in
	// changes neither the profile nor lastUpdated). Like UpdateUser it
	// fails with a Conflict when u.Version is not the stored version, and
	// increments u.Version.
	RecordSignIn(u *User) error
	DeleteUser(id string) error
	// SetUnique records the values of unique attributes for a user,
	// failing with a Conflict naming the attribute when another user has one.
	SetUnique(userID string, values map[string]string) error
	InsertGroup(g *Group) error
	UpdateGroup(g *Group) error
	// LockGroupName makes the transactions that check and take a group
	// name (case-insensitive) wait for each other, and reports whether a
	// group other than exceptID has it.
	LockGroupName(name, exceptID string) (taken bool, err error)
	DeleteGroup(id string) error
	GroupForUpdate(id string) (*Group, error)
	AddMember(groupID, userID string, at time.Time) (bool, error)
	RemoveMember(groupID, userID string, at time.Time) (bool, error)
	Schema() (*Schema, error)
	SaveSchema(s *Schema) error
	Append(ev audit.Event) error
}
