package awssandbox

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/awssandbox/samltest"
)

// testClock runs at real speed (SigV4 signs with the real clock) but can be
// moved forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

var (
	idpOnce  sync.Once
	testIdP  *samltest.IdP
	otherIdP *samltest.IdP
)

func idps(t testing.TB) (*samltest.IdP, *samltest.IdP) {
	idpOnce.Do(func() {
		var err error
		start := time.Now().AddDate(-1, 0, 0)
		if testIdP, err = samltest.NewIdP("http://www.okta.com/exk-gatehouse", 2048, start); err != nil {
			panic(err)
		}
		if otherIdP, err = samltest.NewIdP("http://www.okta.com/exk-gatehouse", 2048, start); err != nil {
			panic(err)
		}
	})
	return testIdP, otherIdP
}

type env struct {
	t     testing.TB
	sb    *Sandbox
	srv   *httptest.Server
	info  Info
	clock *testClock
	cfg   aws.Config
	iam   *iam.Client
	sts   *sts.Client
	conn  *connect.Client
	idp   *samltest.IdP
}

func newEnv(t testing.TB, o Options) *env {
	t.Helper()
	clock := &testClock{}
	o.Clock = clock.Now
	if o.ConnectRate == 0 && !o.HeavyThrottle {
		o.ConnectRate, o.ConnectBurst = 1000, 1000
	}
	sb, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(srv.Close)
	info := sb.Info(srv.URL)
	e := &env{t: t, sb: sb, srv: srv, info: info, clock: clock}
	e.idp, _ = idps(t)
	e.cfg = e.config(info.AccessKeyID, info.SecretAccessKey, "")
	e.iam, e.sts, e.conn = e.clients(e.cfg)
	return e
}

func (e *env) config(key, secret, token string) aws.Config {
	return aws.Config{Region: e.info.Region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)}
}

func (e *env) clients(cfg aws.Config) (*iam.Client, *sts.Client, *connect.Client) {
	base := aws.String(e.srv.URL)
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = base }),
		sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = base }),
		connect.NewFromConfig(cfg, func(o *connect.Options) { o.BaseEndpoint = base })
}

// noRetry returns a Connect client that does not retry.
func (e *env) connectNoRetry(cfg aws.Config) *connect.Client {
	return connect.NewFromConfig(cfg, func(o *connect.Options) {
		o.BaseEndpoint = aws.String(e.srv.URL)
		o.Retryer = aws.NopRetryer{}
	})
}

// apiErr asserts err is an AWS API error with the given code and, when msg
// is not empty, message.
func apiErr(t testing.TB, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("error message = %q, want %q", ae.ErrorMessage(), msg)
	}
}

var ctx = context.Background()
