package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/adminrole"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/gatehouse/gatehouse/internal/server"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadConfig("serve", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if cfg.BootstrapAdminEmail != "" {
		if err := a.bootstrapAdmin(ctx, cfg.BootstrapAdminEmail, cfg.BootstrapAdminPassword); err != nil {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	full := a.handler(prometheus.NewRegistry())
	servers := []*http.Server{httpServer(full)}
	listeners := []net.Listener{ln}
	if cfg.AdminListen != "" {
		// The management API and the metrics get a listener of their own
		// (for example on a private address); the public one refuses them.
		aln, err := net.Listen("tcp", cfg.AdminListen)
		if err != nil {
			ln.Close()
			return err
		}
		servers[0].Handler = server.WithoutAdminPlane(full, oktaapi.IsManagement, (&oktaapi.API{Log: log}).PathNotFound())
		servers = append(servers, httpServer(full))
		listeners = append(listeners, aln)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	defer a.startJobs(log)()
	base := cfg.EffectiveBaseURL()
	fmt.Fprintf(stdout, "Gatehouse is listening on %s (database: %s)\n", base, a.db.Dialect())
	if cfg.AdminListen != "" {
		fmt.Fprintf(stdout, "The management API (/api/v1) and /metrics are served only on http://%s\n", listeners[1].Addr())
	}
	fmt.Fprintf(stdout, "Create the first administrator with:\n  gatehouse admin create --email you@example.com --password-stdin\n")
	fmt.Fprintf(stdout, "and an API token with:\n  gatehouse token create --name automation\n")
	log.Info("serving", "addr", ln.Addr().String(), "base_url", base)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var firstErr error
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// httpServer is an http.Server for h with Gatehouse's timeouts and limits.
func httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := loadConfig("migrate", args, stderr, getenv, nil)
	if err != nil {
		return err
	}
	a, err := build(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	a.close()
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}

func cmdAdminCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	var email, password, first, last string
	var fromStdin bool
	cfg, err := loadConfig("admin create", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email (and login) of the administrator")
		fs.StringVar(&password, "password", "", "password")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input")
		fs.StringVar(&first, "first-name", "Gatehouse", "first name")
		fs.StringVar(&last, "last-name", "Administrator", "last name")
	})
	if err != nil {
		return err
	}
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if email == "" || password == "" {
		return errors.New("--email and --password (or --password-stdin) are required")
	}
	a, err := build(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.close()
	u, err := a.createAdmin(ctx, email, password, first, last)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created super administrator %s (%s)\n", u.Login(), u.ID)
	return nil
}

// describe renders a domain error with its field messages for the terminal.
func describe(err error) error {
	if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
		var b strings.Builder
		b.WriteString(e.Msg)
		for _, f := range e.Fields {
			b.WriteString("\n  - " + f.Message)
		}
		return errors.New(b.String())
	}
	return err
}

func (a *app) createAdmin(ctx context.Context, email, password, first, last string) (*directory.User, error) {
	u, err := a.directory.CreateUser(ctx, directory.CreateUserInput{
		Profile:  directory.Profile{"login": email, "email": email, "firstName": first, "lastName": last},
		Password: password,
		Activate: true,
	})
	if err != nil {
		return nil, err
	}
	ev := a.events.New(ctx, "user.account.privilege.grant", "Grant user privilege", audit.Success, audit.UserTarget(u.ID, u.Login(), u.DisplayName()))
	ev.Debug = map[string]string{"privilegeGranted": oktaapi.RoleSuperAdmin}
	if err := a.db.Tokens().GrantRole(ctx, u.ID, oktaapi.RoleSuperAdmin, a.now(), ev); err != nil {
		return nil, err
	}
	return u, nil
}

// bootstrapAdmin creates the configured administrator unless a user with
// that login exists.
func (a *app) bootstrapAdmin(ctx context.Context, email, password string) error {
	if _, err := a.directory.Store.User(ctx, email); err == nil {
		return nil
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	_, err := a.createAdmin(ctx, email, password, "Gatehouse", "Administrator")
	if err == nil {
		a.log.Info("created bootstrap administrator", "login", email)
	}
	return describe(err)
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var name, role, owner string
	cfg, err := loadConfig("token create", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "a name that says what the token is for")
		fs.StringVar(&role, "role", oktaapi.RoleSuperAdmin, "SUPER_ADMIN, READ_ONLY_ADMIN or APP_ADMIN")
		fs.StringVar(&owner, "owner", "", "login of the administrator the token acts for (optional)")
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(name) == "" {
		return errors.New("--name is required")
	}
	switch role {
	case oktaapi.RoleSuperAdmin, oktaapi.RoleReadOnlyAdmin, oktaapi.RoleAppAdmin:
	default:
		return fmt.Errorf("--role %q: must be SUPER_ADMIN, READ_ONLY_ADMIN or APP_ADMIN", role)
	}
	a, err := build(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.close()
	userID := ""
	if owner != "" {
		u, err := a.directory.Store.User(ctx, owner)
		if err != nil {
			return fmt.Errorf("--owner: %w", err)
		}
		// A token never does more than its owner holds (docs/admin-roles.md).
		roles, err := a.db.Tokens().AdminRoles(ctx, u.ID)
		if err != nil {
			return err
		}
		if adminrole.Highest(roles) == "" {
			return fmt.Errorf("--owner %s holds no administrator role: the token could do nothing", owner)
		}
		userID = u.ID
	}
	value, _, err := oktaapi.NewToken(ctx, a.db.Tokens(), a.ids, a.now(), a.events, name, userID, role)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, value)
	return nil
}
