package directory

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// ImportResult reports what one batch import did.
type ImportResult struct {
	Created int
	// Problems lists inputs that were refused, by index in the batch.
	Problems map[int]error
}

// ImportUsers creates a batch of users with pre-hashed passwords (or no
// password) in one transaction, each with the log events CreateUser
// writes (user.lifecycle.create, and user.lifecycle.activate when
// activating): the bulk path for migrating a directory. Inputs that fail validation are reported and
// skipped; a duplicate login makes the batch fail so it can be retried
// without the duplicate.
func (s *Service) ImportUsers(ctx context.Context, in []CreateUserInput) (ImportResult, error) {
	res := ImportResult{Problems: map[int]error{}}
	schema, err := s.Store.Schema(ctx)
	if err != nil {
		return res, err
	}
	type prepared struct {
		u        *User
		groups   []string
		activate bool
	}
	var batch []prepared
	now := s.now()
	for i, c := range in {
		if c.Password != "" {
			res.Problems[i] = errs.InvalidFields("Api validation failed: password", errs.Field("password", "Import takes password hashes, not passwords."))
			continue
		}
		p, err := schema.Normalize(c.Profile)
		if err != nil {
			res.Problems[i] = err
			continue
		}
		u := &User{ID: s.IDs.NewOrdered(ids.User, now), Status: Staged, Created: now, LastUpdated: now, Profile: p}
		u.Credentials.Provider = "OKTA"
		if c.ImportedHash != nil {
			enc, err := c.ImportedHash.Encode() // validates
			if err != nil {
				res.Problems[i] = err
				continue
			}
			u.Credentials.PasswordHash = enc
			u.PasswordChanged = &now
		}
		if c.Activate {
			next, err := Next(Staged, OpActivate, u.Credentials.HasPassword())
			if err != nil {
				res.Problems[i] = err
				continue
			}
			u.Status = next
			u.Activated, u.StatusChanged = &now, &now
		}
		batch = append(batch, prepared{u: u, groups: c.GroupIDs, activate: c.Activate})
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if bt, ok := tx.(BulkTx); ok && !anyGroups(in) {
			// The same rows, users first and then their events in the
			// order the loop below writes them, many per statement.
			us := make([]*User, len(batch))
			evs := make([]audit.Event, 0, 2*len(batch))
			for i, p := range batch {
				us[i] = p.u
				t := audit.UserTarget(p.u.ID, p.u.Login(), p.u.DisplayName())
				evs = append(evs, s.Events.New(ctx, "user.lifecycle.create", "Create okta user", audit.Success, t))
				if p.activate {
					evs = append(evs, s.Events.New(ctx, "user.lifecycle.activate", "Activate Okta user", audit.Success, t))
				}
			}
			if err := bt.InsertUsers(us); err != nil {
				return err
			}
			for _, p := range batch {
				if err := s.insertUnique(tx, schema, p.u); err != nil {
					return err
				}
			}
			if err := bt.AppendEvents(evs); err != nil {
				return err
			}
			for _, p := range batch {
				if err := s.hooks(ctx, tx, nil, p.u); err != nil {
					return err
				}
			}
			return nil
		}
		for _, p := range batch {
			if err := tx.InsertUser(p.u); err != nil {
				return fmt.Errorf("%s: %w", p.u.Login(), err)
			}
			if err := s.insertUnique(tx, schema, p.u); err != nil {
				return err
			}
			t := audit.UserTarget(p.u.ID, p.u.Login(), p.u.DisplayName())
			if err := tx.Append(s.Events.New(ctx, "user.lifecycle.create", "Create okta user", audit.Success, t)); err != nil {
				return err
			}
			if p.activate {
				if err := tx.Append(s.Events.New(ctx, "user.lifecycle.activate", "Activate Okta user", audit.Success, t)); err != nil {
					return err
				}
			}
			for _, g := range p.groups {
				if err := s.manualAdd(ctx, tx, g, p.u, now); err != nil {
					return err
				}
			}
			if err := s.hooks(ctx, tx, nil, p.u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Created = len(batch)
	return res, nil
}

// anyGroups reports whether an input joins groups (whose membership
// events the one-user-at-a-time path writes after each user's own).
func anyGroups(in []CreateUserInput) bool {
	for _, c := range in {
		if len(c.GroupIDs) > 0 {
			return true
		}
	}
	return false
}
