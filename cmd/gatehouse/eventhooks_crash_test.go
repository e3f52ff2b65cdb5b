package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
)

// TestSIGKILLKeepsEventHookDeliveries kills the server during a burst of
// group creations while the hook's endpoint fails every delivery, then
// runs the jobs of the same database once the endpoint is back: every
// group that exists has its group.lifecycle.create event delivered, as the
// delivery was committed with the event.
func TestSIGKILLKeepsEventHookDeliveries(t *testing.T) {
	bin := gatehouseBinary(t)
	rc, tweak := newHookReceiver(t)
	var hookCfg config.Config
	tweak(&hookCfg)
	dir := t.TempDir()
	env := append(os.Environ(), "GATEHOUSE_DATA_DIR="+dir, "GATEHOUSE_EVENT_HOOK_CA_FILE="+hookCfg.EventHookCAFile)
	cmd := exec.Command(bin, "token", "create", "--name", "crash")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	addr := freeAddr(t)
	srv := startServe(t, bin, env, addr)
	api := func(method, path, body string) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "SSWS "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Create and verify the hook.
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/eventHooks", strings.NewReader(`{"name":"crash","events":{"type":"EVENT_TYPE","items":["group.lifecycle.create"]},
		"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"`+rc.srv.URL+`"}}}`))
	req.Header.Set("Authorization", "SSWS "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("create hook: %v %v", err, resp)
	}
	var created struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil || created.ID == "" {
		t.Fatalf("create hook: %v", err)
	}
	if s := api("POST", "/api/v1/eventHooks/"+created.ID+"/lifecycle/verify", ""); s != 200 {
		t.Fatalf("verify: %d", s)
	}
	rc.set(func(rc *hookReceiver) { rc.failAll = true })

	var acknowledged atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if api("POST", "/api/v1/groups", fmt.Sprintf(`{"profile":{"name":"crash-%d-%d"}}`, w, i)) == 200 {
					acknowledged.Add(1)
				}
			}
		}(w)
	}
	for acknowledged.Load() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	srv.Process.Signal(syscall.SIGKILL)
	srv.Wait()
	close(stop)
	wg.Wait()

	// The endpoint is back; the same database's jobs run, an hour later
	// (past every retry's wait and every lease of the killed process).
	rc.set(func(rc *hookReceiver) { rc.failAll = false })
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.EventHookCAFile = hookCfg.EventHookCAFile
	a, err := build(context.Background(), cfg, newLogger(cfg, os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	r := a.runner(newLogger(cfg, os.Stderr))
	r.Poll = 20 * time.Millisecond
	r.Now = func() time.Time { return time.Now().Add(time.Hour) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	groups, err := a.directory.Store.Groups(context.Background(), directory.GroupQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(groups)) < acknowledged.Load() {
		t.Fatalf("%d creations acknowledged, %d groups stored", acknowledged.Load(), len(groups))
	}
	deadline := time.Now().Add(30 * time.Second)
	var missing []string
	for {
		delivered := map[string]bool{}
		_, posts := rc.snapshot()
		for _, p := range posts {
			if p.failed {
				continue
			}
			for _, ev := range p.events() {
				for _, tg := range ev["target"].([]any) {
					delivered[tg.(map[string]any)["id"].(string)] = true
				}
			}
		}
		missing = missing[:0]
		for _, g := range groups {
			if !delivered[g.ID] {
				missing = append(missing, g.Name)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d groups never delivered: %v", len(missing), len(groups), missing)
	}
	t.Logf("%d groups acknowledged, %d stored, every one delivered after the crash", acknowledged.Load(), len(groups))
}
