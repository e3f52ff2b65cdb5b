package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeImportFile writes n create-user bodies with salted SHA-256 hashes
// (the shape gatehouse-load users makes) and returns the file name.
func writeImportFile(tb testing.TB, dir string, n int) string {
	tb.Helper()
	name := filepath.Join(dir, "users.jsonl")
	f, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		salt := []byte(fmt.Sprintf("salt%07d", i))
		sum := sha256.Sum256(append(append([]byte{}, salt...), "Imported-Passw0rd"...))
		login := fmt.Sprintf("user%07d@example.com", i)
		fmt.Fprintf(w, `{"profile":{"login":%q,"email":%q,"firstName":"First%d","lastName":"Last%d","title":"Agent","mobilePhone":"+1 555 %07d"},"credentials":{"password":{"hash":{"algorithm":"SHA-256","salt":%q,"saltOrder":"PREFIX","value":%q}}}}`+"\n",
			login, login, i%997, i%1009, i, base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(sum[:]))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return name
}

// BenchmarkImportUsers runs `gatehouse import users` on a fresh SQLite
// database (or PostgreSQL with GATEHOUSE_BENCH_PG_DSN) with
// GATEHOUSE_BENCH_USERS users (default 20,000) per iteration and reports
// users per second.
func BenchmarkImportUsers(b *testing.B) {
	n := benchUsers()
	file := os.Getenv("GATEHOUSE_BENCH_IMPORT_FILE")
	if file == "" {
		file = writeImportFile(b, b.TempDir(), n)
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		env := map[string]string{"GATEHOUSE_DATA_DIR": dir}
		if dsn := os.Getenv("GATEHOUSE_BENCH_PG_DSN"); dsn != "" {
			env["GATEHOUSE_DATABASE_URL"] = dsn
		}
		var out, errb strings.Builder
		b.StartTimer()
		t0 := time.Now()
		err := cmdImportUsers(context.Background(), []string{"--file", file}, nil, &out, &errb, func(k string) string { return env[k] })
		total += time.Since(t0)
		if err != nil || errb.Len() > 0 && !strings.Contains(errb.String(), "level=") {
			b.Fatalf("import: %v\n%s", err, errb.String())
		}
		if !strings.Contains(out.String(), fmt.Sprintf("imported %d users (0 refused)", n)) && file == "" {
			b.Fatalf("import: %s", out.String())
		}
		b.Log(strings.TrimSpace(out.String()))
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "users/s")
}
