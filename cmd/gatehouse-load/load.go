package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/internal/credential"
)

// result is what one load phase measured.
type result struct {
	n, errors int
	elapsed   time.Duration
	lat       []time.Duration
	serverCPU time.Duration // CPU time the server process used during the phase
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r.lat[int(float64(len(r.lat)-1)*p)]
}

func (r result) String() string {
	s := fmt.Sprintf("%d ok, %d errors in %.2fs: %.1f/s, p50 %.2f ms, p99 %.2f ms", r.n, r.errors, r.elapsed.Seconds(), r.rate(),
		ms(r.pct(0.50)), ms(r.pct(0.99)))
	if r.serverCPU > 0 && r.n > 0 {
		s += fmt.Sprintf(", server CPU %.3f ms per request", ms(r.serverCPU)/float64(r.n))
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// processCPU returns the CPU time (user and system) that process pid has
// used so far, threads that have exited included: utime and stime of
// /proc/<pid>/stat, in clock ticks (USER_HZ, 100 per second on Linux).
// (Summing /proc/<pid>/task/*/schedstat, as this tool did, loses the
// whole history of a thread that exits, such as one locked by a
// goroutine that ends while locked, which may have served requests for
// minutes before.)
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	rest := string(b)
	if k := strings.LastIndexByte(rest, ')'); k >= 0 {
		rest = rest[k+1:]
	}
	f := strings.Fields(rest) // f[0] is field 3 (state); utime is field 14
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const userHZ = 100
	return time.Duration(utime+stime) * time.Second / userHZ
}

// drive runs op for d: closed loop with c workers when rate is 0, else an
// open loop that starts rate operations per second (latency counted from
// the scheduled start, so a stalled server is not hidden).
func drive(c int, d time.Duration, rate float64, serverPID int, op func() error) result {
	var mu sync.Mutex
	var res result
	record := func(lat time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if res.errors < 3 {
				fmt.Fprintln(os.Stderr, "error:", err)
			}
			res.errors++
			return
		}
		res.n++
		res.lat = append(res.lat, lat)
	}
	cpu0 := processCPU(serverPID)
	start := time.Now()
	stop := start.Add(d)
	var wg sync.WaitGroup
	if rate <= 0 {
		for w := 0; w < c; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					t0 := time.Now()
					err := op()
					record(time.Since(t0), err)
				}
			}()
		}
	} else {
		slots := make(chan time.Time, 4096)
		for w := 0; w < c; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for at := range slots {
					err := op()
					record(time.Since(at), err)
				}
			}()
		}
		interval := time.Duration(float64(time.Second) / rate)
		for at := start; at.Before(stop); at = at.Add(interval) {
			time.Sleep(time.Until(at))
			slots <- at
		}
		close(slots)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.serverCPU = processCPU(serverPID) - cpu0
	return res
}

// selfCPU is the process's CPU time (argon2 computes on goroutines of
// its own, so the calling thread's time alone would miss it).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bound measures op in a loop for d with GOMAXPROCS 1: the rate per wall
// second and the CPU time per operation.
func bound(d time.Duration, op func()) (perSec float64, cpuPer time.Duration) {
	op()
	n := 0
	c0, t0 := selfCPU(), time.Now()
	for time.Since(t0) < d {
		op()
		n++
	}
	return float64(n) / time.Since(t0).Seconds(), (selfCPU() - c0) / time.Duration(n)
}

// cmdBound prints the one-core bounds: RSA-2048 PKCS#1 v1.5 SHA-256
// signatures and argon2id hashes with Gatehouse's parameters.
func cmdBound(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bound", flag.ContinueOnError)
	d := fs.Duration("d", 3*time.Second, "duration of each measurement")
	what := fs.String("what", "rsa,argon2", "bounds to measure")
	if err := fs.Parse(args); err != nil {
		return err
	}
	runtime.GOMAXPROCS(1)
	if strings.Contains(*what, "rsa") {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err
		}
		key.Precompute()
		sum := sha256.Sum256([]byte("gatehouse"))
		rate, cpu := bound(*d, func() {
			if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
				panic(err)
			}
		})
		fmt.Fprintf(stdout, "bound rsa2048-sha256: %.1f signatures/s, CPU %.3f ms per signature\n", rate, ms(cpu))
	}
	if strings.Contains(*what, "argon2") {
		h, err := credential.NewHasher(credential.Config{MaxConcurrent: 1})
		if err != nil {
			return err
		}
		rate, cpu := bound(*d, func() {
			if _, err := h.Hash(context.Background(), "Correct-Horse-42"); err != nil {
				panic(err)
			}
		})
		fmt.Fprintf(stdout, "bound argon2id: %.1f hashes/s, CPU %.3f ms per hash\n", rate, ms(cpu))
	}
	return nil
}

// api calls Gatehouse's management API.
type api struct {
	base, token string
	c           *http.Client
}

func (a api) call(method, path, body string, out any) error {
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "SSWS "+a.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn goes through the sign-in form with a fresh cookie jar and returns
// the client holding the session.
func signIn(base, login, password string, transport http.RoundTripper) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("sign-in page without a CSRF token (%d)", resp.StatusCode)
	}
	resp, err = c.PostForm(base+"/login", url.Values{"username": {login}, "password": {password}, "csrf": {string(m[1])}, "next": {"/app/UserHome"}})
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in answered %d", resp.StatusCode)
	}
	return c, nil
}

type loadFlags struct {
	base, token     string
	c               int
	d               time.Duration
	rate            float64
	pid             int
	login, password string
}

func (f *loadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.base, "base", "http://127.0.0.1:8080", "Gatehouse base URL")
	fs.StringVar(&f.token, "token", os.Getenv("GATEHOUSE_TOKEN"), "API token (SSWS) for the setup calls")
	fs.IntVar(&f.c, "c", 8, "concurrent connections")
	fs.DurationVar(&f.d, "d", 10*time.Second, "duration")
	fs.Float64Var(&f.rate, "rate", 0, "open-loop rate in requests per second (0: closed loop)")
	fs.IntVar(&f.pid, "server-pid", 0, "server process id, to report its CPU time per request")
	fs.StringVar(&f.login, "login", "load@example.com", "the person who signs in")
	fs.StringVar(&f.password, "password", "Secret-Passw0rd-42", "their password")
}

// ensureUser creates the person (active, with the password) unless they exist.
func ensureUser(a api, login, password string) (string, error) {
	var u struct {
		ID string `json:"id"`
	}
	if err := a.call("GET", "/api/v1/users/"+url.PathEscape(login), "", &u); err == nil {
		return u.ID, nil
	}
	body := fmt.Sprintf(`{"profile":{"login":%q,"email":%q,"firstName":"Load","lastName":"Test"},"credentials":{"password":{"value":%q}}}`, login, login, password)
	err := a.call("POST", "/api/v1/users?activate=true", body, &u)
	return u.ID, err
}

// appJSON is what the load tool reads of an app.
type appJSON struct {
	ID    string `json:"id"`
	Links struct {
		AppLinks []struct {
			Href string `json:"href"`
		} `json:"appLinks"`
	} `json:"_links"`
}

// cmdSSO sets up a SAML app assigned to one person, signs them in, and
// drives IdP-initiated SSO (a GET of the app's SSO URL) from c connections.
func cmdSSO(args []string, stdout io.Writer) error {
	var f loadFlags
	fs := flag.NewFlagSet("sso", flag.ContinueOnError)
	f.register(fs)
	both := fs.Bool("both", false, "sign the response as well as the assertion")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: f.c + 4, MaxConnsPerHost: f.c + 4}
	a := api{base: f.base, token: f.token, c: &http.Client{Transport: tr}}
	uid, err := ensureUser(a, f.login, f.password)
	if err != nil {
		return err
	}
	label := "Load assertion-signed"
	if *both {
		label = "Load both-signed"
	}
	var apps []appJSON
	if err := a.call("GET", "/api/v1/apps?q="+url.QueryEscape(label), "", &apps); err != nil {
		return err
	}
	if len(apps) == 0 {
		body := fmt.Sprintf(`{"label":%q,"signOnMode":"SAML_2_0","settings":{"signOn":{
			"ssoAcsUrl":"https://sp.example.test/saml/acs","recipient":"https://sp.example.test/saml/acs","destination":"https://sp.example.test/saml/acs",
			"audience":"https://sp.example.test/metadata","subjectNameIdTemplate":"${user.userName}",
			"subjectNameIdFormat":"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
			"responseSigned":%t,"assertionSigned":true,"signatureAlgorithm":"RSA_SHA256","digestAlgorithm":"SHA256",
			"authnContextClassRef":"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
			"defaultRelayState":"https://sp.example.test/home",
			"attributeStatements":[{"type":"EXPRESSION","name":"email","namespace":"urn:oasis:names:tc:SAML:2.0:attrname-format:basic","values":["user.email"]},
			  {"type":"EXPRESSION","name":"displayName","namespace":"urn:oasis:names:tc:SAML:2.0:attrname-format:basic","values":["user.firstName + \" \" + user.lastName"]},
			  {"type":"GROUP","name":"groups","namespace":"urn:oasis:names:tc:SAML:2.0:attrname-format:basic","filterType":"STARTS_WITH","filterValue":"sp-"}]}}}`, label, *both)
		var app appJSON
		if err := a.call("POST", "/api/v1/apps?activate=true", body, &app); err != nil {
			return err
		}
		if err := a.call("POST", "/api/v1/apps/"+app.ID+"/users", fmt.Sprintf(`{"id":%q,"scope":"USER"}`, uid), nil); err != nil {
			return err
		}
		apps = append(apps, app)
	}
	if len(apps[0].Links.AppLinks) == 0 {
		return errors.New("the app has no app link")
	}
	link := apps[0].Links.AppLinks[0].Href
	c, err := signIn(f.base, f.login, f.password, tr)
	if err != nil {
		return err
	}
	var size atomic.Int64
	op := func() error {
		resp, err := c.Get(link)
		if err != nil {
			return err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 4000 {
			return fmt.Errorf("launch answered %d with %d bytes", resp.StatusCode, n)
		}
		size.Store(n)
		return nil
	}
	if err := op(); err != nil {
		return err
	}
	res := drive(f.c, f.d, f.rate, f.pid, op)
	mode := "closed loop"
	if f.rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f/s", f.rate)
	}
	fmt.Fprintf(stdout, "sso %s, %d connections, %s: %s (page %d bytes)\n", label, f.c, mode, res, size.Load())
	return nil
}

// cmdSignIn drives password sign-ins: each one a new browser (GET the form,
// POST it) for the same person.
func cmdSignIn(args []string, stdout io.Writer) error {
	var f loadFlags
	fs := flag.NewFlagSet("signin", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: f.c + 4, MaxConnsPerHost: f.c + 4}
	a := api{base: f.base, token: f.token, c: &http.Client{Transport: tr}}
	if _, err := ensureUser(a, f.login, f.password); err != nil {
		return err
	}
	op := func() error { _, err := signIn(f.base, f.login, f.password, tr); return err }
	if err := op(); err != nil {
		return err
	}
	res := drive(f.c, f.d, f.rate, f.pid, op)
	fmt.Fprintf(stdout, "signin %d connections: %s\n", f.c, res)
	return nil
}
