package catalog

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Sealer encrypts secrets at rest (keys.Sealer implements it).
type Sealer interface {
	Seal(plaintext []byte, context string) (string, error)
	Open(sealed string, context string) ([]byte, error)
}

// ProfileValidator checks assignment profiles of the apps of one template
// (registered by template name in Service.ProfileValidators). It returns
// an errs.Invalid error naming the profile fields that are wrong. It runs
// inside the transaction, before the assignment is written.
type ProfileValidator interface {
	ValidateAssignmentProfile(ctx context.Context, app *App, scope Scope, profile map[string]any) error
}

// ProfilePreparer may be implemented by a ProfileValidator whose checks
// need data from outside Gatehouse (the profiles of an Amazon Connect
// instance, say). The catalog calls it with the new profile (nil when the
// change keeps the stored one) before the transaction of an assignment
// change, while no lock is held, and validates with the context it
// returns. An error stops the change.
type ProfilePreparer interface {
	PrepareProfileValidation(ctx context.Context, app *App, profile map[string]any) (context.Context, error)
}

// SettingsValidator checks settings.app of the apps of one template beyond
// the field types of the catalog (ARNs, instance ids), returning field
// errors. Registered by template name in Service.SettingsValidators.
type SettingsValidator interface {
	ValidateSettings(ctx context.Context, app *App) []errs.FieldError
}

// ChangeKind names a change told to a ChangeHook.
type ChangeKind string

// Changes.
const (
	AppCreated             ChangeKind = "app.created"
	AppUpdated             ChangeKind = "app.updated"
	AppActivated           ChangeKind = "app.activated"
	AppDeactivated         ChangeKind = "app.deactivated"
	AppDeleted             ChangeKind = "app.deleted"
	UserAssigned           ChangeKind = "user.assigned"
	UserAssignmentUpdated  ChangeKind = "user.updated"
	UserUnassigned         ChangeKind = "user.unassigned"
	GroupAssigned          ChangeKind = "group.assigned"
	GroupAssignmentUpdated ChangeKind = "group.updated"
	GroupUnassigned        ChangeKind = "group.unassigned"
)

// Change is one app or assignment change. Before is nil on creation, After
// on removal.
type Change struct {
	Kind ChangeKind
	App  *App
	// UserID and the direct assignment before and after, for user changes.
	UserID                  string
	UserBefore, UserAfter   *Assignment
	GroupID                 string
	GroupBefore, GroupAfter *GroupAssignment
}

// ChangeHook is told, inside the transaction, about every change; an error
// rolls the change back. Provisioning uses it to enqueue jobs atomically.
type ChangeHook func(ctx context.Context, tx Tx, c Change) error

// Config are the catalog's settings.
type Config struct {
	// AllowLegacyCrypto permits RSA_SHA1/SHA1, RSA_15 key transport and SP
	// certificates of 1024-2047 bits.
	AllowLegacyCrypto bool
	// OrgSlug is the first part of generated app names (<org>_<label>_<n>)
	// and the subject of signing certificates.
	OrgSlug string
	// KeyValidity is the validity of new signing certificates (default one
	// year, at most two).
	KeyValidity time.Duration
}

// Service implements the catalog's operations.
type Service struct {
	Store     Store
	Directory Directory
	Sealer    Sealer
	Expr      *expr.Engine
	IDs       *ids.Source
	Now       func() time.Time
	// Random feeds certificate serial numbers; nil means crypto/rand.
	Random             io.Reader
	Events             audit.Builder
	Config             Config
	ProfileValidators  map[string]ProfileValidator
	SettingsValidators map[string]SettingsValidator
	OnChange           []ChangeHook

	cache keyCache
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) random() io.Reader {
	if s.Random != nil {
		return s.Random
	}
	return rand.Reader
}

func (s *Service) orgSlug() string {
	if s.Config.OrgSlug != "" {
		return s.Config.OrgSlug
	}
	return "gatehouse"
}

func (s *Service) hooks(ctx context.Context, tx Tx, c Change) error {
	for _, h := range s.OnChange {
		if err := h(ctx, tx, c); err != nil {
			return err
		}
	}
	return nil
}

func appTarget(a *App) audit.Target { return audit.AppTarget(a.ID, a.Name, a.Label) }

// AppInput is what an admin sets on an app, on creation or replacement.
type AppInput struct {
	// Name is the template name (amazon_aws, amazon_connect); empty or
	// TemplateCustomSAML for a custom SAML app. On replacement it must be
	// empty or the app's name.
	Name       string
	Label      string
	SignOnMode string // empty means SAML_2_0
	// Visibility, Accessibility and UserNameTemplate keep their defaults
	// (or, on replacement, their current values) when nil.
	Visibility       *Visibility
	Accessibility    *Accessibility
	UserNameTemplate *UserNameTemplate
	// SigningKid switches the active signing key (replacement only); empty
	// keeps it.
	SigningKid string
	// SettingsApp are settings.app values. For write-only fields a string
	// sets the secret, "" clears it, and nil or absence keeps it.
	SettingsApp map[string]any
	// SignOn is settings.signOn; nil means the template defaults on
	// creation and the current values on replacement. Empty recipient and
	// destination default to ssoAcsUrl.
	SignOn *SignOn
	Notes  *Notes
}

// CreateOptions are the parameters of CreateApp.
type CreateOptions struct {
	Activate bool
	// KeyBits is the RSA size of the first signing key: 2048 (also for 0),
	// 3072 or 4096.
	KeyBits int
}

func (s *Service) template(name string) (*Template, error) {
	if name == "" || name == TemplateCustomSAML {
		return customSAMLTemplate(), nil
	}
	t := TemplateByKey(name)
	if t == nil || !t.FixedName {
		return nil, errs.InvalidFields("Api validation failed: name", errs.Field("name", "name: %q is not an app in the catalog", name))
	}
	return t, nil
}

// apply sets the input's values on a; it returns the write-only values to
// seal (key -> plaintext, "" clears).
func (s *Service) apply(a *App, in AppInput, tmpl *Template) map[string]*string {
	a.Label = in.Label
	if in.SignOnMode != "" {
		a.SignOnMode = in.SignOnMode
	}
	if in.Visibility != nil {
		a.Visibility = *in.Visibility
	}
	if a.Visibility.AppLinks == nil {
		a.Visibility.AppLinks = map[string]bool{"login": true}
	}
	if in.Accessibility != nil {
		a.Accessibility = *in.Accessibility
	}
	if in.UserNameTemplate != nil {
		a.Credentials.UserNameTemplate = *in.UserNameTemplate
		if a.Credentials.UserNameTemplate.Type == "" {
			a.Credentials.UserNameTemplate.Type = UserNameBuiltIn
			if a.Credentials.UserNameTemplate.Template != DefaultUserNameTemplate {
				a.Credentials.UserNameTemplate.Type = UserNameCustom
			}
		}
		if a.Credentials.UserNameTemplate.Template == "" && a.Credentials.UserNameTemplate.Type == UserNameBuiltIn {
			a.Credentials.UserNameTemplate.Template = DefaultUserNameTemplate
		}
	}
	if in.Notes != nil {
		a.Settings.Notes = *in.Notes
	}
	if in.SignOn != nil {
		so := *in.SignOn
		a.Settings.SignOn = so
	}
	so := &a.Settings.SignOn
	if so.Recipient == "" {
		so.Recipient = so.SSOAcsURL
	}
	if so.Destination == "" {
		so.Destination = so.SSOAcsURL
	}
	secrets := map[string]*string{}
	settings := tmpl.DefaultSettings()
	for k, v := range a.Settings.App {
		settings[k] = v
	}
	for k, v := range in.SettingsApp {
		if f, ok := tmpl.Field(k); ok && f.WriteOnly {
			if sv, ok := v.(string); ok {
				secrets[k] = &sv
			} else if v != nil {
				settings[k] = v // reported by validation
			}
			continue
		}
		settings[k] = v
	}
	a.Settings.App = settings
	return secrets
}

func (s *Service) validate(ctx context.Context, a *App, tmpl *Template) error {
	err := s.validateApp(a, tmpl)
	if v := s.SettingsValidators[tmpl.Key]; v != nil {
		if fe := v.ValidateSettings(ctx, a); len(fe) > 0 {
			if e, ok := errs.As(err); ok {
				e.Fields = append(e.Fields, fe...)
			} else {
				err = errs.InvalidFields("Api validation failed: app", fe...)
			}
		}
	}
	return err
}

func (s *Service) seal(a *App, secrets map[string]*string) error {
	for k, v := range secrets {
		if *v == "" {
			delete(a.Secrets, k)
			continue
		}
		sealed, err := s.Sealer.Seal([]byte(*v), secretContext(a.ID, k))
		if err != nil {
			return fmt.Errorf("seal %s: %w", k, err)
		}
		if a.Secrets == nil {
			a.Secrets = map[string]string{}
		}
		a.Secrets[k] = sealed
	}
	return nil
}

func secretContext(appID, key string) string { return "app:" + appID + ":setting:" + key }

// CreateApp validates and creates an app with its first signing key, and
// activates it when asked, atomically with its log events.
func (s *Service) CreateApp(ctx context.Context, in AppInput, opts CreateOptions) (*App, error) {
	tmpl, err := s.template(in.Name)
	if err != nil {
		return nil, err
	}
	if in.Label == "" {
		in.Label = tmpl.DefaultLabel
	}
	now := s.now()
	a := &App{
		ID: s.IDs.New(ids.App), Status: Inactive, SignOnMode: SignOnModeSAML2, ExternalKey: s.IDs.New(ids.Instance),
		Created: now, LastUpdated: now,
		Credentials: Credentials{UserNameTemplate: UserNameTemplate{Template: DefaultUserNameTemplate, Type: UserNameBuiltIn}},
		Settings:    Settings{SignOn: tmpl.DefaultSignOn},
	}
	if tmpl.FixedName {
		a.Name = tmpl.Key
	}
	secrets := s.apply(a, in, tmpl)
	if err := s.validate(ctx, a, tmpl); err != nil {
		return nil, err
	}
	if err := checkKeyBits(opts.KeyBits); err != nil {
		return nil, err
	}
	if err := s.seal(a, secrets); err != nil {
		return nil, err
	}
	rec, err := s.newKey(a.ID, opts.KeyBits, s.Config.KeyValidity, now)
	if err != nil {
		return nil, err
	}
	a.Credentials.SigningKid = rec.Kid
	if opts.Activate {
		a.Status = Active
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if !tmpl.FixedName {
			name, err := s.generateName(tx, a.Label)
			if err != nil {
				return err
			}
			a.Name = name
		}
		if err := tx.InsertApp(a); err != nil {
			return err
		}
		if err := tx.InsertAppKey(rec); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, "application.lifecycle.create", "Create application", audit.Success, appTarget(a))); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, "app.keys.generate", "Generate application signing key", audit.Success, appTarget(a), keyTarget(rec.Kid))); err != nil {
			return err
		}
		if opts.Activate {
			if err := tx.Append(s.Events.New(ctx, "application.lifecycle.activate", "Activate application", audit.Success, appTarget(a))); err != nil {
				return err
			}
		}
		return s.hooks(ctx, tx, Change{Kind: AppCreated, App: a})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func keyTarget(kid string) audit.Target {
	return audit.Target{ID: kid, Type: "Key", AlternateID: kid, DisplayName: "Signing key"}
}

// slug keeps the lower-case letters and digits of s.
func slug(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			if b.Len() == max {
				break
			}
		}
	}
	return b.String()
}

// generateName makes a custom app's name as Okta does:
// <org>_<label letters and digits>_<n>, n one more than the largest in use.
func (s *Service) generateName(tx Tx, label string) (string, error) {
	ls := slug(label, 40)
	if ls == "" {
		ls = "app"
	}
	prefix := slug(s.orgSlug(), 40) + "_" + ls + "_"
	names, err := tx.AppNamesWithPrefix(prefix)
	if err != nil {
		return "", err
	}
	n := 0
	for _, name := range names {
		if k, err := strconv.Atoi(strings.TrimPrefix(name, prefix)); err == nil && k > n {
			n = k
		}
	}
	return prefix + strconv.Itoa(n+1), nil
}

// UpdateApp replaces an app's settings (Okta's PUT). Status, name and
// external key do not change; a new SigningKid must name a key of the app.
func (s *Service) UpdateApp(ctx context.Context, id string, in AppInput) (*App, error) {
	var out *App
	err := s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(id)
		if err != nil {
			return err
		}
		if in.Name != "" && in.Name != a.Name && !(in.Name == TemplateCustomSAML && !TemplateFor(a.Name).FixedName) {
			return errs.InvalidFields("Api validation failed: name", errs.Field("name", "name: the name of an app cannot be changed"))
		}
		tmpl := TemplateFor(a.Name)
		if in.Label == "" {
			in.Label = a.Label
		}
		secrets := s.apply(a, in, tmpl)
		rotate := in.SigningKid != "" && in.SigningKid != a.Credentials.SigningKid
		if rotate {
			recs, err := tx.AppKeysForUpdate(a.ID)
			if err != nil {
				return err
			}
			found := false
			for _, r := range recs {
				found = found || r.Kid == in.SigningKid
			}
			if !found {
				return errs.InvalidFields("Api validation failed: credentials.signing.kid",
					errs.Field("credentials.signing.kid", "credentials.signing.kid: %s is not a key of this app; generate one with POST /api/v1/apps/%s/credentials/keys/generate", in.SigningKid, a.ID))
			}
			a.Credentials.SigningKid = in.SigningKid
		}
		if err := s.validate(ctx, a, tmpl); err != nil {
			return err
		}
		if err := s.seal(a, secrets); err != nil {
			return err
		}
		a.LastUpdated = s.now()
		if err := tx.UpdateApp(a); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, "application.lifecycle.update", "Update application", audit.Success, appTarget(a))); err != nil {
			return err
		}
		if rotate {
			if err := tx.Append(s.Events.New(ctx, "app.keys.rotate", "Rotate application signing key", audit.Success, appTarget(a), keyTarget(a.Credentials.SigningKid))); err != nil {
				return err
			}
		}
		if err := s.hooks(ctx, tx, Change{Kind: AppUpdated, App: a}); err != nil {
			return err
		}
		out = a
		return nil
	})
	return out, err
}

// ActivateApp makes an app ACTIVE; activating an active app is a no-op.
func (s *Service) ActivateApp(ctx context.Context, id string) error {
	return s.setStatus(ctx, id, Active)
}

// DeactivateApp makes an app INACTIVE; its users can no longer sign in to it.
func (s *Service) DeactivateApp(ctx context.Context, id string) error {
	return s.setStatus(ctx, id, Inactive)
}

func (s *Service) setStatus(ctx context.Context, id string, st Status) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(id)
		if err != nil {
			return err
		}
		if a.Status == st {
			return nil
		}
		a.Status, a.LastUpdated = st, s.now()
		if err := tx.UpdateApp(a); err != nil {
			return err
		}
		typ, msg, kind := "application.lifecycle.activate", "Activate application", AppActivated
		if st == Inactive {
			typ, msg, kind = "application.lifecycle.deactivate", "Deactivate application", AppDeactivated
		}
		if err := tx.Append(s.Events.New(ctx, typ, msg, audit.Success, appTarget(a))); err != nil {
			return err
		}
		return s.hooks(ctx, tx, Change{Kind: kind, App: a})
	})
}

// DeleteApp removes an INACTIVE app with its keys and assignments; an
// ACTIVE app must be deactivated first (Okta's E0000056).
func (s *Service) DeleteApp(ctx context.Context, id string) error {
	err := s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(id)
		if err != nil {
			return err
		}
		if a.Status == Active {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000056", Msg: "Delete application forbidden.",
				Fields: []errs.FieldError{{Field: "status", Message: "Deactivate the application before deleting it."}}}
		}
		if err := s.hooks(ctx, tx, Change{Kind: AppDeleted, App: a}); err != nil {
			return err
		}
		if err := tx.DeleteApp(a.ID); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "application.lifecycle.delete", "Delete application", audit.Success, appTarget(a)))
	})
	if err == nil {
		s.cache.dropApp(id)
	}
	return err
}

// AppSecret opens a write-only settings.app value (accessKey, secretKey)
// for the integration that needs it; "" when it is not set.
func (s *Service) AppSecret(ctx context.Context, appID, key string) (string, error) {
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return "", err
	}
	sealed, ok := a.Secrets[key]
	if !ok {
		return "", nil
	}
	b, err := s.Sealer.Open(sealed, secretContext(a.ID, key))
	if err != nil {
		return "", fmt.Errorf("open %s of app %s: %w", key, a.ID, err)
	}
	return string(b), nil
}
