package catalog

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
)

// AppQuery selects apps for a list.
type AppQuery struct {
	ID     string // exact id ("" for any)
	Q      string // case-insensitive prefix of the name or the label
	Status Status // "" for any
	Name   string // exact name
	// UserID lists only apps assigned to this user, directly or through
	// one of their groups.
	UserID string
	// GroupID lists only apps assigned to this group.
	GroupID string
	After   string // cursor: the last id of the previous page
	Limit   int
}

// AppUserQuery selects the users of an app.
type AppUserQuery struct {
	AppID string
	Q     string // prefix of the user's login, email, first or last name
	After string
	Limit int
}

// Store reads and writes apps, their keys and their assignments.
type Store interface {
	App(ctx context.Context, id string) (*App, error)
	AppByExternalKey(ctx context.Context, externalKey string) (*App, error)
	// AppVersion returns the id and version of the app with the given id
	// (byKey false) or external key (byKey true): every change of the app
	// increments its version, so a reader holding that version of the app
	// holds its current state.
	AppVersion(ctx context.Context, idOrKey string, byKey bool) (id string, version int64, err error)
	Apps(ctx context.Context, q AppQuery) ([]*App, error)
	AppKeys(ctx context.Context, appID string) ([]*KeyRecord, error)
	// AppUsers pages the users who have the app, directly or through a
	// group, in id order.
	AppUsers(ctx context.Context, q AppUserQuery) ([]*directory.User, error)
	// UserAssignments returns the direct assignments of the given users.
	UserAssignments(ctx context.Context, appID string, userIDs []string) ([]*Assignment, error)
	// GroupGrants returns the app's group assignments reaching the given
	// users, ordered by user, then priority, then group id.
	GroupGrants(ctx context.Context, appID string, userIDs []string) ([]*GroupGrant, error)
	GroupAssignment(ctx context.Context, appID, groupID string) (*GroupAssignment, error)
	// GroupAssignments pages the app's group assignments in group id
	// order; a non-empty q keeps those whose group's name starts with it
	// (case-insensitive).
	GroupAssignments(ctx context.Context, appID, q, after string, limit int) ([]*GroupAssignment, error)
	// GroupApps pages a group's app assignments in app id order.
	GroupApps(ctx context.Context, groupID, after string, limit int) ([]*GroupAssignment, error)
	// GroupAppCounts counts the apps each of the given groups is assigned
	// to (what GroupApps pages), for all the groups in one query. A group
	// without assignments, or unknown, is absent from the map.
	GroupAppCounts(ctx context.Context, groupIDs []string) (map[string]int, error)
	// Update runs fn in one transaction; every write and its audit events
	// commit together or not at all.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is the write side of Store, inside one transaction.
type Tx interface {
	// AppForUpdate reads an app and locks it until commit.
	AppForUpdate(id string) (*App, error)
	InsertApp(a *App) error
	// UpdateApp writes a; it fails with a Conflict when a.Version is not the
	// stored version, and increments a.Version.
	UpdateApp(a *App) error
	// DeleteApp removes an app with its keys and assignments.
	DeleteApp(id string) error
	// AppNamesWithPrefix lists the app names starting with prefix.
	AppNamesWithPrefix(prefix string) ([]string, error)
	AppKeysForUpdate(appID string) ([]*KeyRecord, error)
	InsertAppKey(k *KeyRecord) error
	DeleteAppKey(appID, kid string) error
	AppUserForUpdate(appID, userID string) (*Assignment, error)
	// PutAppUser inserts or replaces a direct assignment.
	PutAppUser(a *Assignment) error
	DeleteAppUser(appID, userID string) (bool, error)
	AppGroupForUpdate(appID, groupID string) (*GroupAssignment, error)
	// PutAppGroup inserts or replaces a group assignment.
	PutAppGroup(g *GroupAssignment) error
	DeleteAppGroup(appID, groupID string) (bool, error)
	// MaxAppGroupPriority is the largest priority among the app's group
	// assignments; ok is false when there is none.
	MaxAppGroupPriority(appID string) (max int, ok bool, err error)
	// UserForUpdate and GroupForUpdate are the directory's (see
	// directory.Tx); assignments lock the user or group they name.
	UserForUpdate(idOrLogin string) (*directory.User, error)
	GroupForUpdate(id string) (*directory.Group, error)
	Append(ev audit.Event) error
}

// Directory is what the catalog reads of the directory (directory.Store
// implements it).
type Directory interface {
	User(ctx context.Context, idOrLogin string) (*directory.User, error)
}
