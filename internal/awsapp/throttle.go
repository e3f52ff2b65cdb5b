package awsapp

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// Throttling policy of the Connect calls a sync job makes.
//
// A sync job makes several Connect calls in a row. If a throttled call
// failed the whole job, the job would start again from its first call after
// its backoff, and against an instance whose burst is smaller than the
// job's number of calls it would never get past the second one: each
// attempt's first call takes the only token. Worse, every 429 would burn
// one of the job's attempts, so a busy account would fail jobs that only
// had to wait. So a throttled call is retried in place, after a jittered
// exponential pause and a fresh token from the node's limiter, and only
// when throttling lasts longer than throttleBudget does the job give up its
// attempt (as retryable, asking to come back after a pause).
//
// Each 429 also takes one extra token from the node's shared limiter, so
// that when the account allows less than the limiter's rate the whole node
// slows down rather than each worker discovering the limit on its own.
const (
	throttleBase   = 500 * time.Millisecond
	throttleCap    = 8 * time.Second
	throttleBudget = 2 * time.Minute
)

// connectCall runs one Connect call under the throttling policy.
type connectCall struct {
	lim *amazonconnect.Limiter // nil: no limiter
	key string
}

// do runs call until it is not throttled, ctx ends or the budget is spent.
func (cc connectCall) do(ctx context.Context, call func() error) error {
	start := time.Now()
	for n := 1; ; n++ {
		err := call()
		if err == nil || !amazonconnect.IsKind(err, amazonconnect.Throttled) {
			return err
		}
		if cc.lim != nil {
			cc.lim.Reserve(cc.key) // the 429 costs the node a token
		}
		ceil := throttleBase << min(n-1, 10)
		ceil = min(ceil, throttleCap)
		pause := ceil/2 + time.Duration(rand.Int64N(int64(ceil/2)+1))
		if time.Since(start)+pause > throttleBudget {
			return provisioning.Retryable(fmt.Errorf("throttled by Amazon Connect for %s: %w", time.Since(start).Round(time.Second), err), throttleCap)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// Amazon Connect's API rate is per AWS account and region; AWS raises it on
// request. An app's provisioning settings may state the raised rate.
func (in *Integration) limiterFor(p ProvisioningSettings) *amazonconnect.Limiter {
	if p.APIRate <= 0 {
		return in.Limiter
	}
	burst := p.APIBurst
	if burst <= 0 {
		burst = max(1, int(p.APIRate*2.5))
	}
	k := strconv.FormatFloat(p.APIRate, 'g', -1, 64) + "/" + strconv.Itoa(burst)
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.limiters == nil {
		in.limiters = map[string]*amazonconnect.Limiter{}
	}
	l := in.limiters[k]
	if l == nil {
		l = amazonconnect.NewLimiter(p.APIRate, burst, nil)
		in.limiters[k] = l
	}
	return l
}

// profilesTTL is how long an instance's security and routing profiles are
// reused between jobs: they change rarely, and listing them for every job
// would double its calls. A name that is not found refreshes them at once.
const profilesTTL = time.Minute

type cachedProfiles struct {
	p  *connectProfiles
	at time.Time
}

// profileCache keeps each instance's profiles for profilesTTL.
type profileCache struct {
	mu sync.Mutex
	m  map[string]cachedProfiles
}

func (c *profileCache) get(key string, now time.Time) *connectProfiles {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && now.Sub(e.at) < profilesTTL && now.Sub(e.at) >= 0 {
		return e.p
	}
	return nil
}

func (c *profileCache) put(key string, p *connectProfiles, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedProfiles{}
	}
	c.m[key] = cachedProfiles{p: p, at: now}
}

func (c *profileCache) drop(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
