package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/oktaapi"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// A cluster is several fully wired Gatehouse nodes on one fresh PostgreSQL
// database, with one master key and one public base URL, behind a small
// reverse proxy that plays the load balancer: requests go round-robin to
// the live nodes, or to the node a request names in nodeHeader. Every
// node runs its own provisioning runner and scheduler, as `gatehouse
// serve` does.

// nodeHeader names the node a request is for; the proxy removes it.
const nodeHeader = "X-Test-Node"

// servedByHeader is added by the proxy to every answer: the node that
// served it.
const servedByHeader = "X-Test-Served-By"

type clusterOptions struct {
	nodes int                  // default 2
	tweak func(*config.Config) // applied to every node's configuration
	// lease is the job lease of the runners (default 3s, so that a job
	// of a killed node is taken over quickly).
	lease time.Duration
	// periodic, when set, replaces the intervals of the periodic work
	// (hours in production) and makes the schedulers tick every
	// periodic/10.
	periodic time.Duration
	// jobDelay is spent at the start of every job, as a slow AWS would.
	jobDelay time.Duration
}

type cluster struct {
	t     testing.TB
	lb    *httptest.Server
	url   string // the load balancer, and every node's base_url
	dbURL string
	key   string // the master key, base64
	token string // a SUPER_ADMIN API token
	nodes []*clusterNode
	next  atomic.Uint64
	jobs  jobTrace
}

// clusterNode is one Gatehouse node: testServer's helpers (call,
// createUser, newSAMLApp, gosamlSP…) talk to this node directly.
type clusterNode struct {
	*testServer
	name     string
	logs     *lockedBuffer
	proxy    *httputil.ReverseProxy
	die      context.CancelFunc // cancels the runner, the scheduler and running handlers
	jobsDone chan struct{}
	down     atomic.Bool
	stopped  bool
	served   atomic.Int64
}

// newCluster starts the nodes together on a fresh database (so their
// migrations race for the lock, as nodes started together do).
func newCluster(t testing.TB, o clusterOptions) *cluster {
	t.Helper()
	if o.nodes == 0 {
		o.nodes = 2
	}
	if o.lease == 0 {
		o.lease = 3 * time.Second
	}
	c := &cluster{t: t, dbURL: storetest.PostgresURL(t)}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	c.key = base64.StdEncoding.EncodeToString(key)
	c.lb = httptest.NewUnstartedServer(http.HandlerFunc(c.route))
	c.url = "http://" + c.lb.Listener.Addr().String()

	c.nodes = make([]*clusterNode, o.nodes)
	errc := make(chan error, o.nodes)
	var wg sync.WaitGroup
	for i := range o.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := c.startNode(string(rune('a'+i)), o)
			c.nodes[i] = n
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			c.stopAll()
			t.Fatal(err)
		}
	}
	c.lb.Start()
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range c.nodes {
				t.Logf("last log lines of node %s:\n%s", n.name, n.logs.tail(40))
			}
		}
		c.stopAll()
		c.lb.Close()
		for _, n := range c.nodes {
			// Nothing of a node lives on its disk: the key comes from the
			// configuration and everything else from the database.
			if ents, err := os.ReadDir(n.cfg.DataDir); err != nil || len(ents) > 0 {
				t.Errorf("node %s wrote to its data directory: %v %v", n.name, ents, err)
			}
		}
		c.jobs.check(t)
	})
	tok, _, err := oktaapi.NewToken(context.Background(), c.nodes[0].db.Tokens(), c.nodes[0].ids, time.Now(), c.nodes[0].events, "cluster", "", oktaapi.RoleSuperAdmin)
	if err != nil {
		t.Fatal(err)
	}
	c.token = tok
	for _, n := range c.nodes {
		n.token = tok
	}
	return c
}

func (c *cluster) startNode(name string, o clusterOptions) (*clusterNode, error) {
	cfg := config.Default()
	cfg.DataDir = c.t.TempDir()
	cfg.DatabaseURL = c.dbURL
	cfg.MasterKey = c.key
	cfg.BaseURL = c.url
	cfg.APIRateLimit = 100000
	if o.tweak != nil {
		o.tweak(&cfg)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil)).With("node", name)
	a, err := build(context.Background(), cfg, log)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	n := &clusterNode{name: name, logs: logs, jobsDone: make(chan struct{})}
	n.testServer = &testServer{app: a, srv: httptest.NewServer(a.handler(prometheus.NewRegistry()))}
	target, _ := url.Parse(n.srv.URL)
	n.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // as a load balancer passes it on
			pr.SetXForwarded()
			pr.Out.Header.Del(nodeHeader)
		},
		ModifyResponse: func(r *http.Response) error {
			r.Header.Set(servedByHeader, name)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "node "+name+" is unreachable: "+err.Error(), http.StatusBadGateway)
		},
	}

	// The node's jobs, as startJobs runs them for `gatehouse serve`, with
	// a short poll and lease; handlers are traced and die with the node.
	ctx, cancel := context.WithCancel(context.Background())
	n.die = cancel
	r := a.runner(log)
	r.Node, r.Poll, r.Lease, r.StopTimeout = name, 50*time.Millisecond, o.lease, 2*time.Second
	for kind, h := range r.Handlers {
		r.Handlers[kind] = c.jobs.wrap(ctx, name, o.jobDelay, h)
	}
	s := a.scheduler(log)
	if o.periodic > 0 {
		s.Tick = o.periodic / 10
		periodic := s.Jobs
		s.Jobs = func(ctx context.Context) ([]provisioning.Periodic, error) {
			ps, err := periodic(ctx)
			for i := range ps {
				ps[i].Interval = o.periodic
			}
			return ps, err
		}
	}
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); r.Run(ctx) }()
	go func() { defer wg.Done(); s.Run(ctx) }()
	go func() { defer wg.Done(); a.hooks.Registry.Run(ctx, clusterHookRefresh) }()
	go func() { wg.Wait(); close(n.jobsDone) }()
	return n, nil
}

// clusterHookRefresh is how often a node rereads the event hooks (5 s in
// gatehouse serve).
const clusterHookRefresh = 200 * time.Millisecond

// route is the load balancer.
func (c *cluster) route(w http.ResponseWriter, r *http.Request) {
	var n *clusterNode
	if name := r.Header.Get(nodeHeader); name != "" {
		n = c.node(name)
	} else {
		var live []*clusterNode
		for _, x := range c.nodes {
			if !x.down.Load() {
				live = append(live, x)
			}
		}
		if len(live) > 0 {
			n = live[int(c.next.Add(1)-1)%len(live)]
		}
	}
	if n == nil || n.down.Load() {
		http.Error(w, "no live node", http.StatusBadGateway)
		return
	}
	n.served.Add(1)
	n.proxy.ServeHTTP(w, r)
}

func (c *cluster) node(name string) *clusterNode {
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	c.t.Fatalf("no node %q", name)
	return nil
}

// kill stops a node as a crash does: its database pool closes first, so
// nothing more of it reaches the database (a transaction in flight may
// still commit, as it may when a process dies), then its running handlers,
// runner and scheduler are canceled and its server drops every connection.
// Its jobs keep their leases until they expire.
func (n *clusterNode) kill() {
	if n.stopped {
		return
	}
	n.stopped = true
	n.down.Store(true)
	n.db.Close()
	n.die()
	n.srv.CloseClientConnections()
	n.srv.Close()
	<-n.jobsDone
}

// stopJobs stops the node's runner and scheduler (running handlers are
// canceled) and leaves it serving.
func (n *clusterNode) stopJobs() {
	n.die()
	<-n.jobsDone
}

// stop shuts a node down in order, as SIGTERM does.
func (n *clusterNode) stop() {
	if n.stopped {
		return
	}
	n.stopped = true
	n.down.Store(true)
	n.srv.Close()
	n.die()
	<-n.jobsDone
	n.close()
}

func (c *cluster) stopAll() {
	for _, n := range c.nodes {
		if n != nil {
			n.stop()
		}
	}
}

// call calls the API through the load balancer (round-robin), returning
// the answer and the node that served it.
func (c *cluster) call(t testing.TB, method, path, body string) (apiResult, string) {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req, _ = http.NewRequest(method, c.url+path, rd)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, _ = http.NewRequest(method, c.url+path, nil)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "SSWS "+c.token)
	return doAPI(t, req)
}

// browser returns a cookie-jar client of the load balancer; on(n) sends
// its next requests to node n, on(nil) round-robin.
func (c *cluster) browser(t testing.TB) *lbBrowser {
	return c.browserFrom(t, "")
}

// browserFrom is a browser whose connections come from the given
// loopback address (127.0.0.2, …), a client of its own to the load
// balancer.
func (c *cluster) browserFrom(t testing.TB, ip string) *lbBrowser {
	b := newBrowser(t, c.url)
	var rt http.RoundTripper = http.DefaultTransport
	if ip != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		rt = &http.Transport{DialContext: d.DialContext}
	}
	pin := &pinTransport{rt: rt}
	b.c.Transport = pin
	return &lbBrowser{browser: b, pin: pin}
}

type lbBrowser struct {
	*browser
	pin *pinTransport
}

func (b *lbBrowser) on(n *clusterNode) *lbBrowser {
	b.pin.mu.Lock()
	defer b.pin.mu.Unlock()
	b.pin.node = ""
	if n != nil {
		b.pin.node = n.name
	}
	return b
}

// servedBy is the node that served the browser's last request.
func (b *lbBrowser) servedBy() string {
	b.pin.mu.Lock()
	defer b.pin.mu.Unlock()
	return b.pin.last
}

type pinTransport struct {
	rt   http.RoundTripper
	mu   sync.Mutex
	node string
	last string
}

func (p *pinTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	node := p.node
	p.mu.Unlock()
	if node != "" {
		r = r.Clone(r.Context())
		r.Header.Set(nodeHeader, node)
	}
	resp, err := p.rt.RoundTrip(r)
	if err == nil {
		p.mu.Lock()
		p.last = resp.Header.Get(servedByHeader)
		p.mu.Unlock()
	}
	return resp, err
}

// jobTrace records every job run of a cluster and checks the delivery
// contract across nodes: one job never runs on two nodes at once, and two
// jobs with the same dedupe key never run at the same time.
type jobTrace struct {
	mu       sync.Mutex
	byID     map[string]string // job id → node running it
	byKey    map[string]string // dedupe key → job id running
	runs     []jobRun
	overlaps []string
}

type jobRun struct {
	node, id, kind, key string
	start, end          time.Time
	err                 error
}

func (jt *jobTrace) wrap(dead context.Context, node string, delay time.Duration, h provisioning.Handler) provisioning.Handler {
	return func(ctx context.Context, j *provisioning.Job) (any, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(dead, cancel) // the node died: its handlers stop
		defer stop()
		run := jobRun{node: node, id: j.ID, kind: j.Kind, key: j.DedupeKey, start: time.Now()}
		jt.mu.Lock()
		if jt.byID == nil {
			jt.byID, jt.byKey = map[string]string{}, map[string]string{}
		}
		if other, ok := jt.byID[j.ID]; ok {
			jt.overlaps = append(jt.overlaps, fmt.Sprintf("job %s (%s) started on node %s while running on node %s", j.ID, j.Kind, node, other))
		}
		if other, ok := jt.byKey[j.DedupeKey]; ok && j.DedupeKey != "" {
			jt.overlaps = append(jt.overlaps, fmt.Sprintf("job %s (%s) started on node %s while job %s with dedupe key %s was running", j.ID, j.Kind, node, other, j.DedupeKey))
		}
		jt.byID[j.ID] = node
		if j.DedupeKey != "" {
			jt.byKey[j.DedupeKey] = j.ID
		}
		jt.mu.Unlock()
		defer func() {
			jt.mu.Lock()
			defer jt.mu.Unlock()
			if jt.byID[j.ID] == node {
				delete(jt.byID, j.ID)
			}
			if jt.byKey[j.DedupeKey] == j.ID {
				delete(jt.byKey, j.DedupeKey)
			}
			run.end = time.Now()
			jt.runs = append(jt.runs, run)
		}()
		if delay > 0 {
			select {
			case <-ctx.Done():
				run.err = ctx.Err()
				return nil, ctx.Err()
			case <-time.After(delay):
			}
		}
		res, err := h(ctx, j)
		run.err = err
		return res, err
	}
}

// snapshot returns the runs so far.
func (jt *jobTrace) snapshot() []jobRun {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	return append([]jobRun(nil), jt.runs...)
}

func (jt *jobTrace) check(t testing.TB) {
	jt.mu.Lock()
	defer jt.mu.Unlock()
	for _, o := range jt.overlaps {
		t.Errorf("delivery contract broken: %s", o)
	}
}

// lockedBuffer collects a node's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(l.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitWindow waits, when less than need is left of the current minute,
// for the next one: fixed one-minute windows (throttles, rate limits)
// would otherwise reset in the middle of a count.
func waitWindow(need time.Duration) {
	now := time.Now()
	if left := now.Truncate(time.Minute).Add(time.Minute).Sub(now); left < need {
		time.Sleep(left + 50*time.Millisecond)
	}
}

func doAPI(t testing.TB, req *http.Request) (apiResult, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := apiResult{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &r.body)
	return r, resp.Header.Get(servedByHeader)
}
