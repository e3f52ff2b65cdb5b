package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/filter"
)

func benchUsers() int {
	if n, err := strconv.Atoi(os.Getenv("GATEHOUSE_BENCH_USERS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// seedUsers imports n users with pre-hashed passwords through the bulk path
// and returns how long it took.
func seedUsers(b *testing.B, ts *testServer, n int) time.Duration {
	b.Helper()
	sum := sha256.Sum256([]byte("Imported-Passw0rd"))
	hash := &credential.ImportedHash{Algorithm: "SHA-256", Value: base64.StdEncoding.EncodeToString(sum[:])}
	start := time.Now()
	for off := 0; off < n; off += 1000 {
		var batch []directory.CreateUserInput
		for i := off; i < off+1000 && i < n; i++ {
			login := fmt.Sprintf("user%07d@example.com", i)
			batch = append(batch, directory.CreateUserInput{Activate: true, ImportedHash: hash, Profile: directory.Profile{
				"login": login, "email": login, "firstName": "First" + strconv.Itoa(i%997), "lastName": "Last" + strconv.Itoa(i%1009),
				"department": "dept" + strconv.Itoa(i%50)}})
		}
		if _, err := ts.directory.ImportUsers(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2], d[len(d)*99/100]
}

// BenchmarkDirectory measures user lookups and a filtered page with many
// users, on SQLite and on PostgreSQL. GATEHOUSE_BENCH_USERS sets the size.
func BenchmarkDirectory(b *testing.B) {
	n := benchUsers()
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		b.Run(name, func(b *testing.B) {
			ts := newTestServer(b, pg, func(c *config.Config) {
				// GATEHOUSE_BENCH_SQLITE_DIR reuses a data dir seeded by
				// `gatehouse import users` (user%07d@example.com logins).
				if dir := os.Getenv("GATEHOUSE_BENCH_SQLITE_DIR"); dir != "" && !pg {
					c.DataDir = dir
				}
			})
			if dir := os.Getenv("GATEHOUSE_BENCH_SQLITE_DIR"); dir == "" || pg {
				d := seedUsers(b, ts, n)
				if err := ts.db.Optimize(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.Logf("%s: imported %d users in %s (%.0f users/s)", name, n, d.Round(time.Millisecond), float64(n)/d.Seconds())
			}
			ctx := context.Background()
			store := ts.directory.Store
			ids := make([]string, 0, 1000)
			page, _ := store.Users(ctx, directory.UserQuery{Limit: 1000})
			for _, u := range page {
				ids = append(ids, u.ID)
			}
			run := func(b *testing.B, op func(i int) error) {
				lat := make([]time.Duration, b.N)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					if err := op(i); err != nil {
						b.Fatal(err)
					}
					lat[i] = time.Since(t0)
				}
				b.StopTimer()
				p50, p99 := percentiles(lat)
				b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			}
			b.Run("GetByLogin", func(b *testing.B) {
				run(b, func(i int) error {
					_, err := store.User(ctx, fmt.Sprintf("user%07d@example.com", (i*7919)%n))
					return err
				})
			})
			b.Run("GetByID", func(b *testing.B) {
				run(b, func(i int) error { _, err := store.User(ctx, ids[i%len(ids)]); return err })
			})
			f, _ := filter.Parse(`status eq "ACTIVE" and profile.lastName eq "Last7"`, filter.Options{})
			b.Run("ListFilter200", func(b *testing.B) {
				run(b, func(i int) error {
					us, err := store.Users(ctx, directory.UserQuery{Filter: f, Limit: 200})
					if err == nil && len(us) == 0 {
						err = fmt.Errorf("filter matched nothing")
					}
					return err
				})
			})
			s, _ := filter.Parse(`profile.department eq "dept7"`, filter.Options{})
			b.Run("SearchCustom200", func(b *testing.B) {
				run(b, func(i int) error { _, err := store.Users(ctx, directory.UserQuery{Search: s, Limit: 200}); return err })
			})
		})
	}
}

// BenchmarkCreateUsersAPI creates users with passwords through the HTTP
// API from GOMAXPROCS clients and reports the rate beside the argon2id
// hash bound measured in the same run with the same parallelism.
func BenchmarkCreateUsersAPI(b *testing.B) {
	defer tuneGC(os.Getenv)() // the collector settings of the gatehouse binary
	ts := newTestServer(b, false)
	workers := runtime.GOMAXPROCS(0)
	// Hash bound: argon2id hashes per second with the server's hasher.
	const hashes = 300
	var wg sync.WaitGroup
	var next atomic.Int64
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= hashes {
				ts.hasher.Hash(context.Background(), "Correct-Horse-42")
			}
		}()
	}
	wg.Wait()
	bound := hashes / time.Since(t0).Seconds()
	var seq atomic.Int64
	b.ResetTimer()
	t1 := time.Now()
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			body := fmt.Sprintf(`{"profile":{"login":"c%d@example.com","email":"c%d@example.com","firstName":"C","lastName":"D"},"credentials":{"password":{"value":"Correct-Horse-42"}}}`, i, i)
			req, _ := http.NewRequest("POST", ts.srv.URL+"/api/v1/users", strings.NewReader(body))
			req.Header.Set("Authorization", "SSWS "+ts.token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Errorf("create: %v %v", err, resp)
				return
			}
			resp.Body.Close()
		}
	})
	rate := float64(b.N) / time.Since(t1).Seconds()
	b.ReportMetric(rate, "users/s")
	b.ReportMetric(bound, "hash-bound/s")
	b.ReportMetric(100*rate/bound, "%-of-bound")
}
