package session

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// OneTime issues single-use, short-lived tokens (account activation,
// password reset links). The store keeps only the token's hash.
type OneTime struct {
	Store Store
	Now   func() time.Time
}

type oneTimeRecord struct {
	Purpose string    `json:"purpose"`
	UserID  string    `json:"userId"`
	Expires time.Time `json:"expires"`
}

// Purposes of one-time tokens.
const (
	PurposeActivation = "activation"
	PurposeReset      = "reset"
)

func oneTimeKey(token string) string { return "onetime:" + Hash(token) }

// Issue returns a new token for userID, valid for ttl.
func (o *OneTime) Issue(ctx context.Context, purpose, userID string, ttl time.Duration) (string, error) {
	token := random(24)
	exp := o.Now().UTC().Add(ttl)
	b, err := json.Marshal(oneTimeRecord{Purpose: purpose, UserID: userID, Expires: exp})
	if err != nil {
		return "", err
	}
	if err := o.Store.PutPending(ctx, oneTimeKey(token), b, exp); err != nil {
		return "", err
	}
	return token, nil
}

// ErrBadToken is an unknown, used, expired or mismatched token.
var ErrBadToken = errs.New(errs.NotFound, "This link is not valid any more. Ask for a new one.")

// Peek returns the user of a valid token without using it up.
func (o *OneTime) Peek(ctx context.Context, purpose, token string) (string, error) {
	if token == "" || len(token) > 100 {
		return "", ErrBadToken
	}
	b, err := o.Store.Pending(ctx, oneTimeKey(token))
	if err != nil {
		return "", ErrBadToken
	}
	var r oneTimeRecord
	if err := json.Unmarshal(b, &r); err != nil || subtle.ConstantTimeCompare([]byte(r.Purpose), []byte(purpose)) != 1 || !o.Now().Before(r.Expires) {
		return "", ErrBadToken
	}
	return r.UserID, nil
}

// Redeem uses a token up and returns its user.
func (o *OneTime) Redeem(ctx context.Context, purpose, token string) (string, error) {
	uid, err := o.Peek(ctx, purpose, token)
	if err != nil {
		return "", err
	}
	// The replay cache makes the use atomic across requests and nodes.
	fresh, err := o.Store.Remember(ctx, "redeemed:"+Hash(token), o.Now().Add(30*24*time.Hour))
	if err != nil {
		return "", err
	}
	if !fresh {
		return "", ErrBadToken
	}
	if err := o.Store.DeletePending(ctx, oneTimeKey(token)); err != nil {
		return "", err
	}
	return uid, nil
}
