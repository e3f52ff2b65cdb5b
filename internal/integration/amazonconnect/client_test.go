package amazonconnect

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
	"github.com/gatehouse/gatehouse/internal/errs"
)

type sandbox struct {
	sb   *awssandbox.Sandbox
	info awssandbox.Info
}

func newSandbox(t *testing.T, o awssandbox.Options) *sandbox {
	t.Helper()
	if o.ConnectRate == 0 && !o.HeavyThrottle {
		o.ConnectRate, o.ConnectBurst = 1000, 1000
	}
	sb, err := awssandbox.New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	return &sandbox{sb: sb, info: sb.Info(srv.URL)}
}

func (s *sandbox) client(t *testing.T, mut func(*Options)) *Client {
	t.Helper()
	o := Options{Region: s.info.Region, InstanceID: s.info.ConnectInstanceID, AccessKeyID: s.info.AccessKeyID,
		SecretAccessKey: s.info.SecretAccessKey, Endpoint: s.info.URL}
	if mut != nil {
		mut(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *sandbox) spec(t *testing.T, c *Client, username string) UserSpec {
	t.Helper()
	ctx := context.Background()
	sps, err := c.ListSecurityProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rps, err := c.ListRoutingProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ProfileIDs(sps, "Agent")
	if err != nil {
		t.Fatal(err)
	}
	rp, err := ProfileIDs(rps, "basic routing profile")
	if err != nil {
		t.Fatal(err)
	}
	return UserSpec{Username: username, IdentityInfo: IdentityInfo{FirstName: "Jane", LastName: "Doe", Email: "jane@example.com"},
		SecurityProfileIDs: sp, RoutingProfileID: rp[0]}
}

func TestProfilesSandbox(t *testing.T) {
	s := newSandbox(t, awssandbox.Options{})
	c := s.client(t, func(o *Options) { o.PageSize = 1 }) // one profile per page
	ctx := context.Background()
	before := s.sb.Calls("ListSecurityProfiles")
	sps, err := c.ListSecurityProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != len(s.info.SecurityProfileIDs) || s.sb.Calls("ListSecurityProfiles")-before != len(sps) {
		t.Fatalf("%d profiles in %d calls", len(sps), s.sb.Calls("ListSecurityProfiles")-before)
	}
	ids, err := ProfileIDs(sps, "Agent", "CallCenterManager", s.info.SecurityProfileIDs["Admin"])
	if err != nil || ids[0] != s.info.SecurityProfileIDs["Agent"] || ids[1] != s.info.SecurityProfileIDs["CallCenterManager"] || ids[2] != s.info.SecurityProfileIDs["Admin"] {
		t.Fatalf("%v %v", ids, err)
	}
	_, err = ProfileIDs(sps, "Supervisor")
	if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || !strings.Contains(e.Msg, "Agent") {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestUserLifecycleSandbox(t *testing.T) {
	s := newSandbox(t, awssandbox.Options{})
	c := s.client(t, nil)
	ctx := context.Background()
	spec := s.spec(t, c, "jdoe@example.com")

	created, err := c.CreateUser(ctx, spec)
	if err != nil || created.Linked || created.UserID == "" {
		t.Fatalf("create: %+v %v", created, err)
	}
	// Creating again links the existing user: never a duplicate.
	again, err := c.CreateUser(ctx, spec)
	if err != nil || !again.Linked || again.UserID != created.UserID || again.UserArn != created.UserArn {
		t.Fatalf("second create: %+v %v", again, err)
	}
	if n := len(s.sb.ConnectUsers("")); n != 1 {
		t.Fatalf("%d Connect users", n)
	}
	u, found, err := c.FindUser(ctx, "jdoe@example.com")
	if err != nil || !found || u.ID != created.UserID {
		t.Fatalf("find: %+v %v %v", u, found, err)
	}
	if _, found, _ := c.FindUser(ctx, "JDOE@example.com"); found {
		t.Fatal("FindUser must match the username exactly")
	}

	cur, err := c.DescribeUser(ctx, created.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if p := Plan(spec, cur); len(p) != 0 {
		t.Fatalf("fresh user needs %v", ops(p))
	}
	// Change name, profiles and phone: three calls, then in sync.
	want := spec
	want.IdentityInfo.LastName = "Roe"
	want.SecurityProfileIDs = append(want.SecurityProfileIDs, s.info.SecurityProfileIDs["QualityAnalyst"])
	want.PhoneConfig = PhoneConfig{PhoneType: DeskPhone, DeskPhoneNumber: "+14155550100", AfterContactWorkTimeLimit: 30}
	plan := Plan(want, cur)
	if fmt.Sprint(ops(plan)) != "[UpdateUserIdentityInfo UpdateUserSecurityProfiles UpdateUserPhoneConfig]" {
		t.Fatalf("plan %v", ops(plan))
	}
	if _, err := c.Apply(ctx, created.UserID, plan); err != nil {
		t.Fatal(err)
	}
	cur, err = c.DescribeUser(ctx, created.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if p := Plan(want, cur); len(p) != 0 {
		t.Fatalf("after apply still %v: %+v", ops(p), cur)
	}
	if got := s.sb.ConnectUsers("")[0]; got.LastName != "Roe" || got.PhoneType != DeskPhone || len(got.SecurityProfileIDs) != 2 {
		t.Fatalf("sandbox sees %+v", got)
	}

	// A linked create brings the existing user to the spec.
	id, err := c.Apply(ctx, "", Plan(spec, nil))
	if err != nil || id != created.UserID {
		t.Fatalf("apply create: %s %v", id, err)
	}
	cur, _ = c.DescribeUser(ctx, id)
	if p := Plan(spec, cur); len(p) != 0 || cur.IdentityInfo.LastName != "Doe" {
		t.Fatalf("linked user not updated: %v %+v", ops(p), cur)
	}

	// Second user, then reconciliation lists both across pages.
	small := s.client(t, func(o *Options) { o.PageSize = 1 })
	if _, err := small.CreateUser(ctx, s.spec(t, c, "agent.two@example.com")); err != nil {
		t.Fatal(err)
	}
	all, err := small.ListAllUsers(ctx)
	if err != nil || len(all) != 2 || all[0].Username != "agent.two@example.com" || all[1].Username != "jdoe@example.com" {
		t.Fatalf("list all: %+v %v", all, err)
	}
	if u, found, err := small.FindUser(ctx, "jdoe@example.com"); err != nil || !found || u.ID != created.UserID {
		t.Fatalf("find across pages: %+v %v %v", u, found, err)
	}

	if err := c.DeleteUser(ctx, created.UserID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, created.UserID); !IsKind(err, NotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := c.DescribeUser(ctx, created.UserID); !IsKind(err, NotFound) {
		t.Fatalf("describe deleted: %v", err)
	}
	if n := len(s.sb.ConnectUsers("")); n != 1 {
		t.Fatalf("%d users left", n)
	}
}

func TestErrorsSandbox(t *testing.T) {
	ctx := context.Background()
	t.Run("invalid spec never reaches AWS", func(t *testing.T) {
		s := newSandbox(t, awssandbox.Options{})
		c := s.client(t, nil)
		spec := s.spec(t, c, "Jane Doe")
		_, err := c.CreateUser(ctx, spec)
		var e *Error
		if !errors.As(err, &e) || e.Kind != Invalid || e.Code != "" || s.sb.Calls("CreateUser") != 0 {
			t.Fatalf("%v (calls %d)", err, s.sb.Calls("CreateUser"))
		}
		if ee, ok := errs.As(err); !ok || len(ee.Fields) != 1 || ee.Fields[0].Field != "username" {
			t.Fatalf("fields: %v", err)
		}
	})
	t.Run("AWS rejects: invalid with AWS's message", func(t *testing.T) {
		s := newSandbox(t, awssandbox.Options{})
		c := s.client(t, nil)
		spec := s.spec(t, c, "jdoe@example.com")
		spec.SecurityProfileIDs = []string{"00000000-0000-0000-0000-000000000000"}
		_, err := c.CreateUser(ctx, spec)
		var e *Error
		if !errors.As(err, &e) || e.Kind != Invalid || e.Code != "InvalidParameterException" || !strings.Contains(e.Message, "does not exist") || e.StatusCode != 400 {
			t.Fatalf("%+v", err)
		}
	})
	t.Run("wrong secret is denied", func(t *testing.T) {
		s := newSandbox(t, awssandbox.Options{})
		c := s.client(t, func(o *Options) { o.SecretAccessKey += "x" })
		_, err := c.ListSecurityProfiles(ctx)
		var e *Error
		if !errors.As(err, &e) || e.Kind != Denied || e.Code != "InvalidSignatureException" || e.Retryable() {
			t.Fatalf("%+v", err)
		}
	})
	t.Run("unknown instance is not found", func(t *testing.T) {
		s := newSandbox(t, awssandbox.Options{})
		c := s.client(t, func(o *Options) { o.InstanceID = "00000000-0000-4000-8000-000000000000" })
		if _, err := c.ListAllUsers(ctx); !IsKind(err, NotFound) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("users per instance quota", func(t *testing.T) {
		s := newSandbox(t, awssandbox.Options{UserQuota: 1})
		c := s.client(t, nil)
		if _, err := c.CreateUser(ctx, s.spec(t, c, "one@example.com")); err != nil {
			t.Fatal(err)
		}
		_, err := c.CreateUser(ctx, s.spec(t, c, "two@example.com"))
		var e *Error
		if !errors.As(err, &e) || e.Kind != Quota || e.Code != "LimitExceededException" || e.Retryable() {
			t.Fatalf("%+v", err)
		}
	})
	t.Run("throttling is classified and not retried by the SDK", func(t *testing.T) {
		s := newSandbox(t, awssandbox.Options{HeavyThrottle: true}) // 0.2 req/s, burst 1
		c := s.client(t, nil)
		if _, err := c.ListRoutingProfiles(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := c.ListRoutingProfiles(ctx)
		var e *Error
		if !errors.As(err, &e) || e.Kind != Throttled || e.Code != "ThrottlingException" || e.StatusCode != 429 || !e.Retryable() {
			t.Fatalf("%+v", err)
		}
		if s.sb.Throttled() != 1 || s.sb.Calls("ListRoutingProfiles") != 2 {
			t.Fatalf("SDK retried: %d throttled, %d calls", s.sb.Throttled(), s.sb.Calls("ListRoutingProfiles"))
		}
	})
	t.Run("client-side limiter keeps under AWS's throttle", func(t *testing.T) {
		s := newSandbox(t, awssandbox.Options{ConnectRate: 20, ConnectBurst: 2})
		lim := NewLimiter(16, 2, nil) // a little under the sandbox rate: no boundary races
		c := s.client(t, func(o *Options) { o.Limiter, o.LimitKey = lim, Key(s.info.AccountID, s.info.Region) })
		for i := range 8 {
			if _, err := c.ListRoutingProfiles(ctx); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if s.sb.Throttled() != 0 {
			t.Fatalf("%d calls throttled", s.sb.Throttled())
		}
	})
}
