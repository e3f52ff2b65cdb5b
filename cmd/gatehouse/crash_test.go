package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/filter"
)

// buildBinary compiles gatehouse once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

func gatehouseBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gatehouse-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "gatehouse")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestSIGKILLDuringCreates kills the server in the middle of a burst of
// user creations and checks that every user exists together with its log
// event, or neither does.
func TestSIGKILLDuringCreates(t *testing.T) {
	bin := gatehouseBinary(t)
	dir := t.TempDir()
	env := append(os.Environ(), "GATEHOUSE_DATA_DIR="+dir)
	cmd := exec.Command(bin, "token", "create", "--name", "crash")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("token create: %v: %s", err, ee.Stderr)
		}
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	if strings.Contains(token, "\n") || !strings.HasPrefix(token, "ghs_") {
		t.Fatalf("token create printed more than a token: %q", out)
	}
	addr := freeAddr(t)
	srv := startServe(t, bin, env, addr)
	var created atomic.Int64
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
				body := fmt.Sprintf(`{"profile":{"login":"u%d-%d@example.com","email":"u%d-%d@example.com","firstName":"U","lastName":"N"},"credentials":{"password":{"value":"Burst-Passw0rd-1"}},"groupIds":[]}`, w, i, w, i)
				req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/users?activate=true", strings.NewReader(body))
				req.Header.Set("Authorization", "SSWS "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					created.Add(1)
				}
			}
		}(w)
	}
	for created.Load() < 10 {
		time.Sleep(20 * time.Millisecond)
	}
	srv.Process.Signal(syscall.SIGKILL)
	srv.Wait()
	close(stop)
	wg.Wait()

	cfg := config.Default()
	cfg.DataDir = dir
	a, err := build(context.Background(), cfg, newLogger(cfg, os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	users, err := a.directory.Store.Users(context.Background(), directory.UserQuery{Limit: 100000, IncludeDeprovisioned: true})
	if err != nil {
		t.Fatal(err)
	}
	evs, _, err := a.db.Events().Query(context.Background(), audit.Query{Limit: 100000,
		Filter: &filter.Compare{Attr: "eventType", Op: filter.OpEq, Value: filter.StringValue("user.lifecycle.create")}})
	if err != nil {
		t.Fatal(err)
	}
	withEvent := map[string]bool{}
	for _, e := range evs {
		withEvent[e.Target[0].ID] = true
	}
	if int64(len(users)) < created.Load() {
		t.Fatalf("%d creations were acknowledged but only %d users exist", created.Load(), len(users))
	}
	for _, u := range users {
		if !withEvent[u.ID] {
			t.Errorf("user %s exists without its create event", u.Login())
		}
		if u.Status != directory.Active || !u.Credentials.HasPassword() {
			t.Errorf("user %s is half-created: %s", u.Login(), u.Status)
		}
		delete(withEvent, u.ID)
	}
	if len(withEvent) > 0 {
		t.Errorf("%d create events without a user", len(withEvent))
	}
	t.Logf("%d users acknowledged, %d stored, all with their events", created.Load(), len(users))
}

// startServe starts the built binary's serve on addr with env and returns
// once it is listening; the caller ends it.
func startServe(t *testing.T, bin string, env []string, addr string) *exec.Cmd {
	t.Helper()
	srv := exec.Command(bin, "serve", "--listen", addr)
	srv.Env = env
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.Contains(sc.Text(), "listening") {
		t.Fatalf("server did not start: %q", sc.Text())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return srv
}
