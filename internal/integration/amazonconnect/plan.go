package amazonconnect

import (
	"context"
	"fmt"
	"slices"
)

// Op is one Connect user operation.
type Op string

// Operations a plan may contain, in the order Plan emits them.
const (
	OpDelete                 Op = "DeleteUser"
	OpCreate                 Op = "CreateUser"
	OpUpdateIdentityInfo     Op = "UpdateUserIdentityInfo"
	OpUpdateSecurityProfiles Op = "UpdateUserSecurityProfiles"
	OpUpdateRoutingProfile   Op = "UpdateUserRoutingProfile"
	OpUpdatePhoneConfig      Op = "UpdateUserPhoneConfig"
	OpUpdateHierarchy        Op = "UpdateUserHierarchy"
)

// Change is one call of a plan; Spec is the (normalized) desired user the
// call takes its values from.
type Change struct {
	Op   Op
	Spec UserSpec
}

// Plan computes the fewest calls that turn current into desired: CreateUser
// when there is no current user; DeleteUser then CreateUser when the
// username differs (Connect cannot rename, and federation matches the
// username); otherwise one Update call per part that differs. Security
// profiles compare as sets. An empty plan means nothing to do.
func Plan(desired UserSpec, current *DescribedUser) []Change {
	d := desired.Normalize()
	if current == nil {
		return []Change{{Op: OpCreate, Spec: d}}
	}
	if current.Username != d.Username {
		return []Change{{Op: OpDelete, Spec: d}, {Op: OpCreate, Spec: d}}
	}
	var out []Change
	if current.IdentityInfo != d.IdentityInfo {
		out = append(out, Change{Op: OpUpdateIdentityInfo, Spec: d})
	}
	if !sameSet(current.SecurityProfileIDs, d.SecurityProfileIDs) {
		out = append(out, Change{Op: OpUpdateSecurityProfiles, Spec: d})
	}
	if current.RoutingProfileID != d.RoutingProfileID {
		out = append(out, Change{Op: OpUpdateRoutingProfile, Spec: d})
	}
	cp := current.PhoneConfig
	if cp.PhoneType == "" {
		cp.PhoneType = SoftPhone
	}
	if cp != d.PhoneConfig {
		out = append(out, Change{Op: OpUpdatePhoneConfig, Spec: d})
	}
	if current.HierarchyGroupID != d.HierarchyGroupID {
		out = append(out, Change{Op: OpUpdateHierarchy, Spec: d})
	}
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// Apply runs a plan for the user userID ("" when the plan starts with
// CreateUser) and returns the user's ID afterwards. A CreateUser that links
// an existing user goes on to update that user to the spec. It stops at the first
// failure, returning the ID known so far with the classified error; the
// job engine re-plans from DescribeUser on retry.
func (c *Client) Apply(ctx context.Context, userID string, plan []Change) (string, error) {
	for _, ch := range plan {
		var err error
		switch ch.Op {
		case OpDelete:
			err = c.DeleteUser(ctx, userID)
			userID = ""
		case OpCreate:
			var cr Created
			cr, err = c.CreateUser(ctx, ch.Spec)
			if err != nil {
				break
			}
			userID = cr.UserID
			if cr.Linked {
				// An existing user was linked: bring it to the spec.
				var cur *DescribedUser
				if cur, err = c.DescribeUser(ctx, userID); err != nil {
					break
				}
				if _, err = c.Apply(ctx, userID, Plan(ch.Spec, cur)); err != nil {
					break
				}
			}
		case OpUpdateIdentityInfo:
			err = c.UpdateIdentityInfo(ctx, userID, ch.Spec.IdentityInfo)
		case OpUpdateSecurityProfiles:
			err = c.UpdateSecurityProfiles(ctx, userID, ch.Spec.SecurityProfileIDs)
		case OpUpdateRoutingProfile:
			err = c.UpdateRoutingProfile(ctx, userID, ch.Spec.RoutingProfileID)
		case OpUpdatePhoneConfig:
			err = c.UpdatePhoneConfig(ctx, userID, ch.Spec.PhoneConfig)
		case OpUpdateHierarchy:
			err = c.UpdateHierarchy(ctx, userID, ch.Spec.HierarchyGroupID)
		default:
			err = fmt.Errorf("amazonconnect: unknown operation %q", ch.Op)
		}
		if err != nil {
			return userID, err
		}
	}
	return userID, nil
}
