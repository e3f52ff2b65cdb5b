package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkClusterIdPInitiatedSSO launches an app (assertion signed)
// through the load-balancing proxy of a cluster on PostgreSQL, with one
// node and with two, and reports responses per second beside the raw
// RSA-2048 signing bound of the same run. The nodes, the proxy, the
// clients and PostgreSQL share the machine's cores: on a 2-core machine
// two nodes cannot show scaling; the figure shows what the second node
// and the round-robin cost, not what it gains.
func BenchmarkClusterIdPInitiatedSSO(b *testing.B) {
	bound := rsaSignRate(b, 2*time.Second)
	for _, nodes := range []int{1, 2} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			c := newCluster(b, clusterOptions{nodes: nodes})
			n := c.nodes[0]
			u := n.createUser(b, "bench@example.com", "Secret-Passw0rd")
			appID, app := n.newSAMLApp(b, "Bench", `,"responseSigned":false`)
			n.assign(b, appID, u.ID)
			link := app["_links"].(map[string]any)["appLinks"].([]any)[0].(map[string]any)["href"].(string)
			br := c.browser(b)
			if resp, _ := br.signIn("bench@example.com", "Secret-Passw0rd", "/"); resp.StatusCode != 303 {
				b.Fatalf("sign in: %d", resp.StatusCode)
			}
			client := &http.Client{Jar: br.c.Jar, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
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
			b.StopTimer()
			served := ""
			for _, x := range c.nodes {
				served += fmt.Sprintf(" %s=%d", x.name, x.served.Load())
			}
			b.Logf("requests served by node:%s", served)
			p50, p99 := percentiles(lat)
			b.ReportMetric(rate, "responses/s")
			b.ReportMetric(bound, "sign-bound/s")
			b.ReportMetric(100*rate/bound, "%-of-bound")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
		})
	}
}
