package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// rsaSignRate measures raw RSA-2048 PKCS#1 v1.5 SHA-256 signatures per
// second with GOMAXPROCS signers: the physical bound of signed SSO.
func rsaSignRate(b *testing.B, d time.Duration) float64 {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	key.Precompute()
	sum := sha256.Sum256([]byte("gatehouse"))
	var n atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:]); err != nil {
					panic(err)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// BenchmarkIdPInitiatedSSO launches an app for a signed-in person over HTTP
// (session check, assignment, expressions, response built and signed,
// POST form rendered) and reports responses per second beside the raw
// RSA-2048 signing bound measured in the same run. Sub-benchmarks sign
// the assertion only, and both response and assertion (two signatures).
func BenchmarkIdPInitiatedSSO(b *testing.B) {
	bound := rsaSignRate(b, 2*time.Second)
	for _, both := range []bool{false, true} {
		name := "assertion-signed"
		extra := `,"responseSigned":false`
		sigs := 1.0
		if both {
			name, extra, sigs = "both-signed", "", 2
		}
		b.Run(name, func(b *testing.B) {
			ts := newTestServer(b, false)
			u := ts.createUser(b, "bench@example.com", "Secret-Passw0rd")
			appID, app := ts.newSAMLApp(b, "Bench", extra)
			ts.assign(b, appID, u.ID)
			link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
			jar := newBrowser(b, ts.srv.URL)
			jar.signIn("bench@example.com", "Secret-Passw0rd", "/")
			client := &http.Client{Jar: jar.c.Jar, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			lat := make([]time.Duration, 0, b.N)
			var mu sync.Mutex
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t0 := time.Now()
					resp, err := client.Get(link)
					if err != nil || resp.StatusCode != 200 {
						b.Errorf("launch: %v %v", err, resp)
						return
					}
					resp.Body.Close()
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			})
			rate := float64(b.N) / time.Since(start).Seconds()
			p50, p99 := percentiles(lat)
			b.ReportMetric(rate, "responses/s")
			b.ReportMetric(bound/sigs, "sign-bound/s")
			b.ReportMetric(100*rate/(bound/sigs), "%-of-bound")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkPasswordSignIn posts the sign-in form from GOMAXPROCS clients and
// reports sign-ins per second beside the argon2id hash bound of the same run.
func BenchmarkPasswordSignIn(b *testing.B) {
	ts := newTestServer(b, false, func(c *config.Config) { c.LockoutAfter = 100; c.SignInIPLimit = 1000000 })
	ts.createUser(b, "signin@example.com", "Secret-Passw0rd")
	const hashes = 30
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= hashes {
				ts.hasher.Hash(b.Context(), "Secret-Passw0rd")
			}
		}()
	}
	wg.Wait()
	bound := hashes / time.Since(t0).Seconds()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			br := newBrowser(b, ts.srv.URL) // a new browser for every sign-in
			resp, _ := br.signIn("signin@example.com", "Secret-Passw0rd", "/")
			if resp.StatusCode != 303 {
				b.Errorf("sign-in: %d", resp.StatusCode)
				return
			}
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(rate, "signins/s")
	b.ReportMetric(bound, "hash-bound/s")
	b.ReportMetric(100*rate/bound, "%-of-bound")
}
