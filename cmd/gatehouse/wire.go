package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse/gatehouse/internal/adminrole"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/console"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/grouprule"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/inflight"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	"github.com/gatehouse/gatehouse/internal/keys"
	"github.com/gatehouse/gatehouse/internal/login"
	"github.com/gatehouse/gatehouse/internal/mail"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/oidclogin"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/recovery"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sso"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
	"github.com/gatehouse/gatehouse/internal/web"
	"github.com/gatehouse/gatehouse/ui"
)

// app is everything a command needs, built once from the configuration.
type app struct {
	cfg       config.Config
	log       *slog.Logger
	db        *sqlstore.DB
	ids       *ids.Source
	now       func() time.Time
	events    audit.Builder
	hasher    *credential.Hasher
	busy      *inflight.Counter // requests in progress: hashes give way to them
	directory *directory.Service
	sealer    *keys.Sealer
	sessions  *session.Manager
	pages     *web.Pages
	catalog   *catalog.Service
	aws       *awsapp.Integration
	queue     *provisioning.Queue
	mfa       *mfa.Service
	policies  *policy.Service
	// groupRules applies Okta group rules; its hooks are the directory's.
	groupRules *grouprule.Service
	// adminRoles grants and revokes administrator roles; its hooks keep
	// an active super administrator.
	adminRoles *adminrole.Service
	oneTime    *session.OneTime
	recovery   *recovery.Service
	hooks      *eventhook.Service
	delivery   *eventhook.Deliverer
	// trustedProxies are the load balancers whose X-Forwarded-For names
	// the client.
	trustedProxies []netip.Prefix
	// idpIssuers overrides the issuers of Google and LinkedIn (tests run a
	// local OpenID Connect provider in their place).
	idpIssuers map[federation.Type]string
}

func loadConfig(name string, args []string, stderr io.Writer, getenv func(string) string, extra func(*flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet("gatehouse "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if extra != nil {
		extra(fs)
	}
	return config.Load(fs, args, getenv)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// build opens the database, applies migrations and builds the services.
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	db, err := sqlstore.Open(ctx, cfg.DatabaseDSN())
	if err != nil {
		return nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("applied database migrations", "migrations", strings.Join(applied, ","), "dialect", db.Dialect().String())
	}
	sealer, err := loadSealer(cfg, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	log.Info("master key", "key_id", sealer.ActiveKeyID())
	trusted, err := cfg.TrustedProxyPrefixes()
	if err != nil {
		db.Close()
		return nil, err
	}
	busy := &inflight.Counter{}
	hcfg := credential.Config{MaxConcurrent: hashSlots, Busy: busy}
	if hashBoost != nil {
		hcfg.Boost = hashBoost
	}
	hasher, err := credential.NewHasher(hcfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	src := ids.NewSource(nil)
	now := time.Now
	events := audit.Builder{Now: now, UUID: newUUID}
	a := &app{cfg: cfg, log: log, db: db, ids: src, now: now, events: events, hasher: hasher, busy: busy, sealer: sealer, trustedProxies: trusted}
	a.directory = &directory.Service{
		Store:  db.Directory(),
		Hasher: hasher,
		Policy: credential.DefaultPolicy(),
		IDs:    src,
		Now:    now,
		Events: events,
	}
	a.sessions = &session.Manager{Store: db.Sessions(), Now: now, IDs: src, Idle: cfg.SessionIdle, Max: cfg.SessionMax}
	if a.pages, err = web.ParsePages(ui.Templates(), nil); err != nil {
		db.Close()
		return nil, err
	}
	a.catalog = &catalog.Service{
		Store:     db.Catalog(),
		Directory: db.Directory(),
		Sealer:    sealer,
		Expr:      expr.NewEngine(),
		IDs:       src,
		Now:       now,
		Events:    events,
		Config:    catalog.Config{AllowLegacyCrypto: cfg.LegacyCrypto, OrgSlug: orgSlug(cfg.EffectiveBaseURL())},
	}
	if err := a.checkMasterKey(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.queue = &provisioning.Queue{Store: db.Jobs(), IDs: src, Now: now}
	a.aws = &awsapp.Integration{
		Catalog:   a.catalog,
		Directory: a.directory,
		Data:      db.AppData(),
		Log:       db.Events(),
		Queue:     a.queue,
		Expr:      a.catalog.Expr,
		Events:    events,
		Now:       now,
		Endpoint:  cfg.AWSEndpoint,
		Limiter:   amazonconnect.NewLimiter(2, 5, now),
	}
	a.oneTime = &session.OneTime{Store: db.Sessions(), Now: now}
	a.recovery = &recovery.Service{
		Directory: a.directory, Sessions: db.Sessions(), OneTime: a.oneTime, Queue: a.queue,
		Permanent: mail.IsPermanent, BaseURL: cfg.EffectiveBaseURL(), ResetTTL: cfg.PasswordResetTTL,
		Events: events, Now: now,
	}
	if cfg.SMTPHost != "" {
		postman, err := newPostman(cfg, now)
		if err != nil {
			db.Close()
			return nil, err
		}
		a.recovery.Mailer = postman
	}
	if err := a.buildHooks(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.idpIssuers = map[federation.Type]string{}
	if cfg.GoogleIssuer != "" {
		a.idpIssuers[federation.Google] = strings.TrimRight(cfg.GoogleIssuer, "/")
	}
	if cfg.LinkedInIssuer != "" {
		a.idpIssuers[federation.LinkedIn] = strings.TrimRight(cfg.LinkedInIssuer, "/")
	}
	a.catalog.SettingsValidators = map[string]catalog.SettingsValidator{awsapp.AWS: a.aws, awsapp.Connect: a.aws}
	a.catalog.ProfileValidators = map[string]catalog.ProfileValidator{awsapp.AWS: a.aws, awsapp.Connect: a.aws}
	a.catalog.OnChange = append(a.catalog.OnChange, a.aws.OnCatalogChange)
	a.directory.OnChange = append(a.directory.OnChange, a.aws.OnUserChange)
	a.mfa = &mfa.Service{
		Directory:    db.Directory(),
		Store:        db.Factors(),
		Sealer:       sealer,
		IDs:          src,
		Now:          now,
		Events:       events,
		LockoutAfter: cfg.LockoutAfter,
		Issuer:       "Gatehouse (" + orgHost(cfg.EffectiveBaseURL()) + ")",
	}
	a.directory.OnChange = append(a.directory.OnChange, a.mfa.OnUserChange)
	a.groupRules = &grouprule.Service{Store: db.GroupRules(), Members: a.directory, People: db.Directory(), Expr: a.catalog.Expr,
		IDs: src, Now: now, Events: events, Log: log}
	// The rules' own membership changes run the other hooks (provisioning
	// jobs through group app assignments) as manual ones do.
	a.directory.OnChange = append(a.directory.OnChange, a.groupRules.OnUserChange)
	a.directory.OnMembership = append(a.directory.OnMembership, a.groupRules.OnMembership)
	a.directory.OnGroupDelete = append(a.directory.OnGroupDelete, a.groupRules.OnGroupDelete)
	a.adminRoles = &adminrole.Service{Store: db.Tokens(), Events: events, Now: now}
	a.directory.OnChange = append(a.directory.OnChange, a.adminRoles.OnUserChange)
	a.directory.OnMembership = append(a.directory.OnMembership, a.adminRoles.OnMembership)
	a.directory.OnGroupDelete = append(a.directory.OnGroupDelete, a.adminRoles.OnGroupDelete)
	a.policies = &policy.Service{Store: db.Policies(), Groups: db.Directory(), IDs: src, Now: now, Events: events, DefaultPassword: credential.DefaultPolicy()}
	if err := a.policies.EnsureDefaults(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("default policies: %w", err)
	}
	a.directory.PasswordPolicy = a.policies.PasswordPolicy
	if wa, err := mfa.NewWebAuthn(cfg.EffectiveBaseURL(), "Gatehouse"); err == nil {
		a.mfa.WebAuthn, a.mfa.Ceremonies = wa, db.Sessions()
	} else {
		log.Info("passkeys are off: set base_url to a URL with a host name (not an IP address) to turn them on", "base_url", cfg.EffectiveBaseURL())
	}
	return a, nil
}

// buildHooks wires event hooks: the registry of subscriptions, which sees
// every event the database writes, the outbound sender and the service.
func (a *app) buildHooks(ctx context.Context) error {
	sc := eventhook.SenderConfig{Own: []string{a.cfg.Listen}}
	if a.cfg.AdminListen != "" {
		sc.Own = append(sc.Own, a.cfg.AdminListen)
	}
	if f := a.cfg.EventHookCAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("event_hook_ca_file: %w", err)
		}
		sc.RootCAs = x509.NewCertPool()
		if !sc.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("event_hook_ca_file: %s holds no PEM certificate", f)
		}
	}
	sender := eventhook.NewSender(sc)
	store := a.db.EventHooks()
	registry := &eventhook.Registry{Store: store, Queue: a.queue, UUID: newUUID, Now: a.now, Log: a.log}
	if err := registry.Refresh(ctx); err != nil {
		return err
	}
	a.db.SetEventTap(registry)
	a.hooks = &eventhook.Service{Store: store, Sealer: a.sealer, Sender: sender, Registry: registry, IDs: a.ids, Now: a.now,
		Events: a.events, AllowHTTP: a.cfg.EventHookAllowHTTP}
	a.delivery = &eventhook.Deliverer{Store: store, Sealer: a.sealer, Sender: sender, BaseURL: a.cfg.EffectiveBaseURL(),
		Render: func(e audit.Event) any { return oktaapi.EventJSON(e) }}
	return nil
}

// checkMasterKey refuses a master key that cannot open the secrets
// already in the database, such as a node of a cluster given another key
// than the others: it opens the active signing key of one app. A database
// without apps has nothing sealed to check against.
func (a *app) checkMasterKey(ctx context.Context) error {
	apps, err := a.catalog.Store.Apps(ctx, catalog.AppQuery{Limit: 1})
	if err != nil || len(apps) == 0 {
		return err
	}
	if _, _, err := a.catalog.SigningKeys(ctx, apps[0].ID); errors.Is(err, keys.ErrOpen) {
		return fmt.Errorf("master key %s does not open the secrets in this database: every node and every gatehouse command needs the key the database was set up with (master_key_file or GATEHOUSE_MASTER_KEY): %w",
			a.sealer.ActiveKeyID(), err)
	}
	return nil
}

// newPostman builds the email sender from the smtp_* settings.
func newPostman(cfg config.Config, now func() time.Time) (*mail.Postman, error) {
	from, err := mail.ParseAddress(cfg.SMTPFrom)
	if err != nil {
		return nil, fmt.Errorf("smtp_from: %w", err)
	}
	templates, err := mail.ParseTemplates(ui.Emails())
	if err != nil {
		return nil, err // embedded: a build defect
	}
	sc := mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.EffectiveSMTPPort(), Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS}
	if cfg.SMTPCAFile != "" {
		pem, err := os.ReadFile(cfg.SMTPCAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp_ca_file: %w", err)
		}
		sc.RootCAs = x509.NewCertPool()
		if !sc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp_ca_file: %s holds no PEM certificate", cfg.SMTPCAFile)
		}
	}
	if u, err := url.Parse(cfg.EffectiveBaseURL()); err == nil && u.Hostname() != "" {
		sc.HelloName = u.Hostname()
	}
	return &mail.Postman{Templates: templates, Composer: mail.Composer{From: from, Now: now}, Sender: &mail.SMTP{Config: sc}}, nil
}

// orgSlug names the org in generated app names: the first label of the
// base URL's host name ("gatehouse" for an IP address or localhost).
func orgSlug(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return "gatehouse"
	}
	h := u.Hostname()
	if net.ParseIP(h) != nil || h == "localhost" {
		return "gatehouse"
	}
	first, _, _ := strings.Cut(h, ".")
	return first
}

// orgHost is the host of the base URL, which names this Gatehouse in
// authenticator apps.
func orgHost(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "gatehouse"
}

func loadSealer(cfg config.Config, log *slog.Logger) (*keys.Sealer, error) {
	var key keys.MasterKey
	var err error
	if v := cfg.MasterKey; v != "" {
		key, err = keys.MasterKeyFromEnv(v)
		if err != nil {
			return nil, fmt.Errorf("master_key: %w", err)
		}
	} else {
		var created bool
		key, created, err = keys.LoadOrCreateMasterKey(cfg.MasterKeyPath())
		if err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
		if created {
			log.Warn("generated a new master key; back it up, secrets stored in the database cannot be read without it", "path", cfg.MasterKeyPath())
		}
	}
	return keys.NewSealer(nil, key)
}

// newUUID returns a version 7 UUID (RFC 9562: the Unix time in
// milliseconds, then 74 random bits), the form of System Log uuids. Being
// time-ordered, the unique index on event uuids grows at its right edge
// instead of at a random page per event.
func newUUID() string {
	var u [16]byte
	if _, err := rand.Read(u[6:]); err != nil {
		panic(err)
	}
	ms := uint64(time.Now().UnixMilli())
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = (u[6] & 0x0f) | 0x70
	u[8] = (u[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

func (a *app) close() { a.db.Close() }

// handler builds the HTTP handler of every surface.
func (a *app) handler(reg *prometheus.Registry) http.Handler {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), server.NewDBCollector(a.db))
	log := a.db.EventLog()
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_event_log_commits_total",
			Help: "Transactions committed by the group-commit event log (sign-on events)."},
			func() float64 { c, _ := log.Counts(); return float64(c) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gatehouse_event_log_events_total",
			Help: "Events committed by the group-commit event log; divided by the commits, the mean group size."},
			func() float64 { _, e := log.Counts(); return float64(e) }))
	oneTime := a.oneTime
	adminRoles := a.adminRoles
	api := &oktaapi.API{
		Directory:    a.directory,
		Tokens:       a.db.Tokens(),
		Admins:       adminRoles,
		Events:       a.db.Events(),
		BaseURL:      a.cfg.EffectiveBaseURL(),
		Now:          a.now,
		IDs:          a.ids,
		Log:          a.log,
		Limiter:      oktaapi.NewLimiter(a.cfg.APIRateLimit),
		TokenWindow:  a.cfg.APITokenWindow,
		MaxBodyBytes: 1 << 20,
		OneTime:      oneTime,
		Emails:       a.recovery,
		ResetTTL:     a.cfg.PasswordResetTTL,
		UserSessions: a.db.Sessions(),
		GroupApps:    a.catalog,
	}
	apps := &oktaapi.Apps{API: api, Catalog: a.catalog}
	api.Extra = append(api.Extra, api.MountAuthn)
	api.Extra = append(api.Extra, apps.Mount)
	api.Extra = append(api.Extra, api.MountSessions(a.db.Sessions(), a.sessions))
	api.Extra = append(api.Extra, (&oktaapi.Factors{API: api, MFA: a.mfa, Pending: a.db.Sessions()}).Mount)
	api.Extra = append(api.Extra, (&oktaapi.Policies{API: api, Policies: a.policies, Catalog: a.catalog}).Mount)
	api.Extra = append(api.Extra, (&oktaapi.GroupRules{API: api, Rules: a.groupRules}).Mount)
	signIns := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gatehouse_signin_attempts_total", Help: "Password sign-in attempts by outcome."}, []string{"outcome"})
	reg.MustRegister(signIns)
	endUser := &login.Surface{
		BaseURL:      a.cfg.EffectiveBaseURL(),
		Directory:    a.directory,
		Sessions:     a.sessions,
		Pages:        a.pages,
		Admins:       a.db.Tokens(),
		Log:          a.log,
		LockoutAfter: a.cfg.LockoutAfter,
		IPAttempts:   a.cfg.SignInIPLimit,
		SignIns:      signIns,
		OneTime:      oneTime,
		Recovery:     a.recovery,
		Static:       http.FileServerFS(ui.Static()),
		MFA:          a.mfa,
		Policy:       signOnPolicy{a.policies},
		Now:          a.now,
	}
	endUser.Apps = appTiles{a.catalog}
	api.Extra = append(api.Extra, (&oktaapi.Authn{API: api, SignIn: endUser, Refresher: a.sessions}).Mount)
	fed := &federation.Service{
		Store: a.db.IdPs(), Directory: a.directory, Sealer: a.sealer, Expr: a.catalog.Expr,
		IDs: a.ids, Now: a.now, Events: a.events,
	}
	federated := &oidclogin.Handler{
		BaseURL: a.cfg.EffectiveBaseURL(), IdPs: fed, Login: endUser, Pending: a.db.Sessions(),
		Now: a.now, Log: a.log, Issuers: a.idpIssuers,
	}
	fed.Discover = federated
	endUser.Providers = federated
	api.Extra = append(api.Extra, (&oktaapi.IdPs{API: api, Service: fed}).Mount)
	api.Extra = append(api.Extra, (&oktaapi.AWSApps{API: api, Integration: a.aws, Queue: a.queue}).Mount)
	api.Extra = append(api.Extra, (&oktaapi.Mappings{API: api, Integration: a.aws}).Mount)
	api.Extra = append(api.Extra, (&oktaapi.EventHooks{API: api, Service: a.hooks}).Mount)
	origins := &trustedorigin.Cache{Store: a.db.TrustedOrigins()}
	originSvc := &trustedorigin.Service{Store: a.db.TrustedOrigins(), IDs: a.ids, Now: a.now, Events: a.events}
	endUser.TrustedOrigins = origins
	api.Extra = append(api.Extra, (&oktaapi.TrustedOrigins{API: api, Service: originSvc, Cache: origins}).Mount)
	eventLog := a.db.EventLog()
	eventLog.SetBusy(a.busy) // sign-on events of requests in progress share a commit
	single := &sso.Surface{
		BaseURL:     a.cfg.EffectiveBaseURL(),
		Catalog:     a.catalog,
		Directory:   a.directory,
		Login:       endUser,
		Sessions:    a.db.Sessions(),
		Expr:        a.catalog.Expr,
		Events:      a.events,
		Log:         eventLog,
		Logger:      a.log,
		IDs:         a.ids,
		Now:         a.now,
		AllowLegacy: a.cfg.LegacyCrypto,
		Rules:       a.policies,
		Integrations: map[string]sso.Attributor{
			awsapp.AWS:     awsAttributes{a.aws},
			awsapp.Connect: awsAttributes{a.aws},
		},
	}
	api.Extra = append(api.Extra, func(m *oktaapi.Mux) {
		m.Handle("GET /api/v1/apps/{id}/sso/saml/metadata", oktaapi.ReadAccess, func(w http.ResponseWriter, r *http.Request) error {
			app, err := a.catalog.Store.App(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			// Okta's kid names the key the metadata is for: every key of
			// an app is in its metadata, so a kid of the app's serves it
			// and any other is 404, as an unknown key is.
			if kid := r.URL.Query().Get("kid"); kid != "" {
				if _, _, err := a.catalog.Key(r.Context(), app.ID, kid); err != nil {
					return err
				}
			}
			single.WriteMetadataAs(w, r, app, "text/xml; charset=utf-8")
			return nil
		})
	})
	admin, err := console.New(console.Console{
		BaseURL:        a.cfg.EffectiveBaseURL(),
		Login:          endUser,
		Directory:      a.directory,
		Catalog:        a.catalog,
		Admins:         a.db.Tokens(),
		AdminRoles:     adminRoles,
		Tokens:         a.db.Tokens(),
		Events:         a.db.Events(),
		Roles:          a.aws,
		Profiles:       a.aws,
		Provisioning:   consoleProvisioning{in: a.aws, queue: a.queue},
		MFA:            a.mfa,
		Policies:       a.policies,
		GroupRules:     a.groupRules,
		EventHooks:     a.hooks,
		IdPs:           fed,
		TrustedOrigins: originSvc,
		Emails:         a.recovery,
		IDs:            a.ids,
		Now:            a.now,
		Audit:          a.events,
		Log:            a.log,
	}, ui.Templates())
	if err != nil {
		// The templates are embedded: a parse error is a build defect.
		panic(fmt.Errorf("admin console: %w", err))
	}
	root := server.New(a.log, reg, a.db, api, endUser, single, admin, federated)
	return web.TrustProxies(counted(a.busy, oktaapi.CORS(root, origins, a.log)), a.trustedProxies)
}

// counted counts every request in progress (package inflight): password
// hashes give way to them, so a flood of sign-ins slows the people already
// signed in far less (credential/yield.go).
func counted(c *inflight.Counter, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, end := c.Begin(r.Context())
		defer end()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// signOnPolicy applies the session policy at sign-in and logs its
// decision.
type signOnPolicy struct{ p *policy.Service }

func (s signOnPolicy) AtSignIn(ctx context.Context, u *directory.User, groups []*directory.Group) (login.SignInRule, error) {
	gids := make([]string, len(groups))
	for i, g := range groups {
		gids[i] = g.ID
	}
	d, err := s.p.EvaluateSignIn(ctx, gids)
	if err != nil {
		return login.SignInRule{}, err
	}
	if err := s.p.Log(ctx, d, audit.UserTarget(u.ID, u.Login(), u.DisplayName())); err != nil {
		return login.SignInRule{}, err
	}
	rule := login.SignInRule{RequireMFA: d.RequireMFA, RememberDevice: d.RememberDevice, Idle: d.SessionIdle, Max: d.SessionMax,
		PolicyID: d.PolicyID, RuleID: d.RuleID}
	if d.Outcome == policy.Deny {
		rule.Deny, rule.Reason = true, "Your organization's sign-on policy does not allow you to sign in. Contact your administrator."
	}
	return rule, nil
}

// appTiles lists a person's active, visible apps as dashboard tiles.
type appTiles struct{ catalog *catalog.Service }

func (t appTiles) Tiles(ctx context.Context, userID string) ([]login.Tile, error) {
	apps, err := t.catalog.AppsForUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []login.Tile
	for _, a := range apps {
		if a.Status != catalog.Active || a.Visibility.Hide.Web {
			continue
		}
		out = append(out, login.Tile{Label: a.Label, Href: a.LoginLinkPath()})
	}
	return out, nil
}
