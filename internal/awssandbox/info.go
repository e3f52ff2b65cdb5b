package awssandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// Info is what a client needs to use the sandbox.
type Info struct {
	URL                string            `json:"url"`
	SignInURL          string            `json:"sign_in_url"`
	AccountID          string            `json:"account_id"`
	AccessKeyID        string            `json:"access_key_id"`
	SecretAccessKey    string            `json:"secret_access_key"`
	Region             string            `json:"region"`
	ConnectInstanceID  string            `json:"connect_instance_id"`
	ConnectInstanceArn string            `json:"connect_instance_arn"`
	SecurityProfileIDs map[string]string `json:"security_profile_ids"`
	RoutingProfileID   string            `json:"routing_profile_id"`
	FederationURL      string            `json:"federation_url"`
}

// Info describes the sandbox as served at baseURL (for example
// "http://127.0.0.1:4566").
func (s *Sandbox) Info(baseURL string) Info {
	baseURL = strings.TrimSuffix(baseURL, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.instances[s.instOrder[0]]
	info := Info{URL: baseURL, SignInURL: baseURL + "/saml", AccountID: s.accountID, AccessKeyID: s.adminKey,
		SecretAccessKey: s.keys[s.adminKey].secret, Region: s.region, ConnectInstanceID: in.id, ConnectInstanceArn: in.arn,
		SecurityProfileIDs: map[string]string{}, RoutingProfileID: in.routingProfiles[0].id,
		FederationURL: "https://" + s.region + ".console.aws.amazon.com/connect/federate/" + in.id}
	for _, p := range in.secProfiles {
		info.SecurityProfileIDs[p.name] = p.id
	}
	return info
}

// Text renders Info for a terminal. It includes the secret key: the sandbox's
// keys open nothing but the sandbox.
func (i Info) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Gatehouse AWS sandbox listening on %s\n", i.URL)
	fmt.Fprintf(&b, "  endpoint (IAM, STS, Connect):   %s\n", i.URL)
	fmt.Fprintf(&b, "  AWS sign-in SAML endpoint:      %s  (stands for https://signin.aws.amazon.com/saml)\n", i.SignInURL)
	fmt.Fprintf(&b, "  account id:                     %s\n", i.AccountID)
	fmt.Fprintf(&b, "  region:                         %s\n", i.Region)
	fmt.Fprintf(&b, "  access key id:                  %s\n", i.AccessKeyID)
	fmt.Fprintf(&b, "  secret access key:              %s\n", i.SecretAccessKey)
	fmt.Fprintf(&b, "  Connect instance id:            %s\n", i.ConnectInstanceID)
	fmt.Fprintf(&b, "  Connect relay state:            %s\n", i.FederationURL)
	names := make([]string, 0, len(i.SecurityProfileIDs))
	for n := range i.SecurityProfileIDs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  security profile %-17s %s\n", n+":", i.SecurityProfileIDs[n])
	}
	fmt.Fprintf(&b, "  routing profile (Basic):        %s\n", i.RoutingProfileID)
	return b.String()
}

// WriteStateFile writes Info as JSON (mode 0600: it holds the secret key).
func (i Info) WriteStateFile(path string) error {
	b, err := json.MarshalIndent(i, "", "  ")
	if err != nil {
		return fmt.Errorf("awssandbox: encode state: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("awssandbox: write state file: %w", err)
	}
	return nil
}

// Run serves a new sandbox with default options on addr (default
// 127.0.0.1:4566; port 0 picks a free one) until ctx ends, printing Info to
// out and writing it as JSON to stateFile when that is not empty.
func Run(ctx context.Context, addr, stateFile string, out io.Writer) error {
	sb, err := New(Options{})
	if err != nil {
		return err
	}
	return sb.Serve(ctx, addr, stateFile, out)
}

// Serve is Run for an existing sandbox.
func (s *Sandbox) Serve(ctx context.Context, addr, stateFile string, out io.Writer) error {
	if addr == "" {
		addr = "127.0.0.1:4566"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("awssandbox: listen: %w", err)
	}
	info := s.Info("http://" + ln.Addr().String())
	if stateFile != "" {
		if err := info.WriteStateFile(stateFile); err != nil {
			ln.Close()
			return err
		}
	}
	if out != nil {
		fmt.Fprint(out, info.Text())
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("awssandbox: shutdown: %w", err)
		}
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("awssandbox: serve: %w", err)
	}
}

// ConnectUser is a Connect user as tests see it.
type ConnectUser struct {
	ID                 string
	Arn                string
	Username           string
	FirstName          string
	LastName           string
	Email              string
	SecurityProfileIDs []string
	RoutingProfileID   string
	PhoneType          string
}

// ConnectUsers lists the users of an instance ("" = the pre-created one),
// sorted by username.
func (s *Sandbox) ConnectUsers(instanceID string) []ConnectUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	if instanceID == "" {
		instanceID = s.instOrder[0]
	}
	in := s.instances[instanceID]
	if in == nil {
		return nil
	}
	var out []ConnectUser
	for _, u := range sortedUsers(in) {
		cu := ConnectUser{ID: u.ID, Arn: u.Arn, Username: u.Username, SecurityProfileIDs: append([]string(nil), u.SecurityProfiles...),
			RoutingProfileID: u.RoutingProfileID}
		if u.IdentityInfo != nil {
			cu.FirstName, cu.LastName, cu.Email = u.IdentityInfo.FirstName, u.IdentityInfo.LastName, u.IdentityInfo.Email
		}
		if u.PhoneConfig != nil {
			cu.PhoneType = u.PhoneConfig.PhoneType
		}
		out = append(out, cu)
	}
	return out
}

// Calls returns how many requests named op the sandbox received (IAM/STS
// actions, Connect operations, and "SignIn", "Federate",
// "GetFederationToken" for the browser flow), including refused ones.
func (s *Sandbox) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// CallCounts returns a copy of all per-operation counters.
func (s *Sandbox) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Throttled returns how many Connect calls were answered with 429
// ThrottlingException.
func (s *Sandbox) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// Federations lists successful Connect federations in order.
func (s *Sandbox) Federations() []Federation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Federation(nil), s.feds...)
}

// SAMLProviderArns lists the IAM SAML providers.
func (s *Sandbox) SAMLProviderArns() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range sortedKeys(s.providers) {
		out = append(out, s.providers[n].arn)
	}
	return out
}

// RoleArns lists the IAM roles.
func (s *Sandbox) RoleArns() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range sortedKeys(s.roles) {
		out = append(out, s.roles[n].arn)
	}
	return out
}
