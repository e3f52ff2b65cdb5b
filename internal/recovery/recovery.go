// Package recovery sends the emails that let people choose a password:
// self-service password reset ("Forgot password?" and Okta's
// /api/v1/authn/recovery/password) and the activation and reset links an
// administrator asks for with sendEmail=true.
//
// A request never says whether an account exists: every request that gets
// past the per-address throttle is answered the same way, and the email
// itself is a durable job (package provisioning) that the request only
// enqueues, in one transaction with its system-log event. The job issues a
// single-use link (package session keeps only its hash), renders and
// sends the message, and retries with backoff while the relay is down.
package recovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/session"
)

// Job kinds of the emails.
const (
	KindPasswordReset = "email.password_reset"
	KindActivation    = "email.activation"
)

// Kinds lists the job kinds whose handler is Service.Handle.
var Kinds = []string{KindPasswordReset, KindActivation}

// Paths of the links, as served by package login.
const (
	ResetPath      = "/reset-password/"
	ActivationPath = "/welcome/"
)

// Mailer renders template name for to and delivers it, returning the
// Message-ID (mail.Postman implements it).
type Mailer interface {
	Send(ctx context.Context, template, to string, data any) (string, error)
}

// Defaults.
const (
	DefaultResetTTL      = time.Hour
	DefaultActivationTTL = 7 * 24 * time.Hour
	// DefaultIPLimit is how many requests one client address may make an
	// hour before it is told to wait (the same for every account).
	DefaultIPLimit = 20
	// DefaultAccountLimit is how many reset emails one account gets an
	// hour; further requests are answered as usual and send nothing.
	DefaultAccountLimit = 3
)

// Service decides who gets which email and sends it through jobs.
type Service struct {
	Directory *directory.Service
	// Sessions keeps the throttle counters and the sessions ended after a
	// reset.
	Sessions session.Store
	OneTime  *session.OneTime
	Queue    *provisioning.Queue
	// Mailer sends the messages; nil means email is not configured, and
	// nothing is offered or enqueued.
	Mailer Mailer
	// Permanent tells whether a Mailer error cannot be fixed by retrying.
	Permanent func(error) bool
	BaseURL   string
	// Org names Gatehouse in messages ("Gatehouse" when empty).
	Org           string
	ResetTTL      time.Duration
	ActivationTTL time.Duration
	IPLimit       int
	AccountLimit  int
	Events        audit.Builder
	Now           func() time.Time
}

// Enabled reports whether email is configured.
func (s *Service) Enabled() bool { return s != nil && s.Mailer != nil }

func (s *Service) resetTTL() time.Duration {
	if s.ResetTTL > 0 {
		return s.ResetTTL
	}
	return DefaultResetTTL
}

func (s *Service) activationTTL() time.Duration {
	if s.ActivationTTL > 0 {
		return s.ActivationTTL
	}
	return DefaultActivationTTL
}

// LinkLifetime says how long a reset link works, for the pages that say
// so ("1 hour").
func (s *Service) LinkLifetime() string { return Humanize(s.resetTTL()) }

// ErrThrottled is a client address that asked too often.
var ErrThrottled = errs.New(errs.RateLimited, "Too many password reset requests from your network. Wait an hour and try again.")

// ErrNotConfigured is a request for email when none is configured.
var ErrNotConfigured = errs.New(errs.Unavailable, "Email is not set up on this Gatehouse, so password reset links cannot be sent. Contact your administrator.")

// CanRecover reports whether a person in status st may reset their
// password by email: signed-in statuses, and LOCKED_OUT (a reset unlocks).
func CanRecover(st directory.Status) bool {
	switch st {
	case directory.Active, directory.PasswordExpired, directory.Recovery, directory.LockedOut:
		return true
	}
	return false
}

// MaxIdentifier bounds what a person may type as username or email.
const MaxIdentifier = 256

// Request handles a self-service reset request for identifier (a username
// or an email address) from client address ip. It returns ErrThrottled,
// an Invalid error for an empty or oversized identifier, an internal error,
// or nil; nil says nothing about whether a message will be sent.
func (s *Service) Request(ctx context.Context, identifier, ip string) error {
	if !s.Enabled() {
		return ErrNotConfigured
	}
	identifier = strings.TrimSpace(identifier)
	if identifier == "" {
		return errs.InvalidFields("Enter your username or email address.", errs.Field("username", "Enter your username or email address."))
	}
	if len(identifier) > MaxIdentifier {
		return errs.InvalidFields("That is too long to be a username.", errs.Field("username", "Enter at most %d characters.", MaxIdentifier))
	}
	now := s.Now()
	limit := s.IPLimit
	if limit <= 0 {
		limit = DefaultIPLimit
	}
	if n, err := s.Sessions.Hit(ctx, "recovery-ip:"+ip, time.Hour, now); err != nil {
		return err
	} else if n > limit {
		return ErrThrottled
	}
	u, err := s.find(ctx, identifier)
	if err != nil {
		return err
	}
	// The account counter is hit for unknown names too (keyed by what was
	// typed), so both paths do the same work.
	key := "recovery-account:" + session.Hash(strings.ToLower(identifier))
	if u != nil {
		key = "recovery-account:" + u.ID
	}
	n, err := s.Sessions.Hit(ctx, key, time.Hour, now)
	if err != nil {
		return err
	}
	alimit := s.AccountLimit
	if alimit <= 0 {
		alimit = DefaultAccountLimit
	}
	reason := ""
	switch {
	case u == nil:
		reason = "UNKNOWN_USER"
	case !CanRecover(u.Status):
		reason = "USER_NOT_ELIGIBLE: " + string(u.Status)
	case u.Credentials.Provider == "FEDERATION" && !u.Credentials.HasPassword():
		reason = "FEDERATED_USER"
	case u.Profile.String("email") == "":
		reason = "NO_EMAIL"
	case n > alimit:
		reason = "RATE_LIMITED"
	}
	return s.Queue.Store.UpdateJobs(ctx, func(tx provisioning.Tx) error {
		if reason != "" {
			target := audit.Target{ID: "unknown", Type: "User", AlternateID: truncate(identifier, 100), DisplayName: "unknown"}
			if u != nil {
				target = audit.UserTarget(u.ID, u.Login(), u.DisplayName())
			}
			ev := s.Events.New(ctx, "user.account.reset_password", "Reset user password", audit.Failure, target)
			ev.Outcome.Reason = reason
			ev.Debug = map[string]string{"initiatedBy": "SELF_SERVICE"}
			return tx.Append(ev)
		}
		if err := s.enqueue(tx, KindPasswordReset, u.ID); err != nil {
			return err
		}
		ev := s.Events.New(ctx, "user.account.reset_password", "Reset user password", audit.Success, audit.UserTarget(u.ID, u.Login(), u.DisplayName()))
		ev.Debug = map[string]string{"initiatedBy": "SELF_SERVICE", "factor": "EMAIL"}
		return tx.Append(ev)
	})
}

// find looks a person up by username, then by primary email (one match
// only). It reads both ways every time.
func (s *Service) find(ctx context.Context, identifier string) (*directory.User, error) {
	byLogin, err := s.Directory.Store.User(ctx, identifier)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return nil, err
	}
	if byLogin != nil && !strings.EqualFold(byLogin.Login(), identifier) {
		byLogin = nil // an id, not a username
	}
	byEmail, err := s.Directory.Store.Users(ctx, directory.UserQuery{
		Search: &filter.Compare{Attr: "profile.email", Op: filter.OpEq, Value: filter.StringValue(identifier)}, Limit: 2,
	})
	if err != nil {
		return nil, err
	}
	if byLogin != nil {
		return byLogin, nil
	}
	if len(byEmail) == 1 && strings.EqualFold(byEmail[0].Profile.String("email"), identifier) {
		return byEmail[0], nil
	}
	return nil, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Service) enqueue(tx provisioning.Enqueuer, kind, userID string) error {
	return s.Queue.Enqueue(tx, &provisioning.Job{Kind: kind, UserID: userID, DedupeKey: kind + ":" + userID, MaxAttempts: 10})
}

// EnqueueIn enqueues the email of kind for userID in tx, the transaction
// of the change that asks for it (an administrator's reset or
// activation). tx must be able to enqueue jobs.
func (s *Service) EnqueueIn(tx any, kind, userID string) error {
	if !s.Enabled() {
		return ErrNotConfigured
	}
	e, ok := tx.(provisioning.Enqueuer)
	if !ok {
		return errors.New("recovery: the transaction cannot enqueue jobs")
	}
	return s.enqueue(e, kind, userID)
}

type result struct {
	MessageID string `json:"messageId,omitempty"`
	Skipped   string `json:"skipped,omitempty"`
}

// Handle is the job handler of both kinds: it checks that the person may
// still get the message, issues the link, and sends it. A person who can
// no longer use it (deleted, activated meanwhile) gets nothing and the job
// succeeds with the reason.
func (s *Service) Handle(ctx context.Context, j *provisioning.Job) (any, error) {
	if !s.Enabled() {
		return nil, provisioning.Permanent(errors.New("email is not configured on this node"))
	}
	u, err := s.Directory.Store.User(ctx, j.UserID)
	if errs.Is(err, errs.NotFound) {
		return result{Skipped: "the person no longer exists"}, nil
	}
	if err != nil {
		return nil, err
	}
	var purpose, template, path, event, msg string
	var ttl time.Duration
	switch j.Kind {
	case KindPasswordReset:
		if !CanRecover(u.Status) {
			return result{Skipped: "status " + string(u.Status)}, nil
		}
		purpose, template, path, ttl = session.PurposeReset, "password_reset", ResetPath, s.resetTTL()
		event, msg = "system.email.password_reset.sent_message", "Password reset email sent"
	case KindActivation:
		if u.Status != directory.Provisioned {
			return result{Skipped: "status " + string(u.Status)}, nil
		}
		purpose, template, path, ttl = session.PurposeActivation, "activation", ActivationPath, s.activationTTL()
		event, msg = "system.email.delivery", "Account activation email sent"
	default:
		return nil, provisioning.Permanent(fmt.Errorf("recovery: no email for job kind %q", j.Kind))
	}
	email := u.Profile.String("email")
	if email == "" {
		return nil, provisioning.Permanent(errors.New("the person has no primary email"))
	}
	name := strings.TrimSpace(u.Profile.String("firstName"))
	if name == "" {
		name = u.DisplayName()
	}
	token, err := s.OneTime.Issue(ctx, purpose, u.ID, ttl)
	if err != nil {
		return nil, err
	}
	org := s.Org
	if org == "" {
		org = "Gatehouse"
	}
	to := (&mail.Address{Name: u.DisplayName(), Address: email}).String()
	data := map[string]any{"Name": name, "Link": strings.TrimRight(s.BaseURL, "/") + path + token, "Expires": Humanize(ttl), "Org": org}
	id, err := s.Mailer.Send(ctx, template, to, data)
	if err != nil {
		if s.Permanent != nil && s.Permanent(err) {
			return nil, provisioning.Permanent(err)
		}
		return nil, provisioning.Retryable(err, 0)
	}
	ev := s.Events.New(ctx, event, msg, audit.Success, audit.UserTarget(u.ID, u.Login(), u.DisplayName()))
	ev.Debug = map[string]string{"messageId": id, "template": template, "jobId": j.ID}
	if err := s.Queue.Store.UpdateJobs(ctx, func(tx provisioning.Tx) error { return tx.Append(ev) }); err != nil {
		// The message went out; a retry would send a second one.
		return result{MessageID: id}, nil
	}
	return result{MessageID: id}, nil
}

// EventType names the system-log event of an email job that failed for
// good, and says whether kind is an email kind.
func EventType(kind string) (string, bool) {
	if kind == KindPasswordReset || kind == KindActivation {
		return "system.email.delivery", true
	}
	return "", false
}

// Humanize writes a link lifetime for people: "1 hour", "30 minutes",
// "7 days".
func Humanize(d time.Duration) string {
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return unit(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int(d/time.Hour), "hour")
	default:
		return unit(int((d+time.Minute-1)/time.Minute), "minute")
	}
}

// ResultJSON reads a finished job's result, for tests and the console.
func ResultJSON(j *provisioning.Job) (messageID, skipped string) {
	var r result
	_ = json.Unmarshal(j.Result, &r)
	return r.MessageID, r.Skipped
}
