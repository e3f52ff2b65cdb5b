package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
)

// importLine is one user to import: the body of Okta's create-user call,
// with a password hash instead of a password.
type importLine struct {
	Profile     map[string]any `json:"profile"`
	Credentials *struct {
		Password *struct {
			Hash *credential.ImportedHash `json:"hash"`
		} `json:"password"`
	} `json:"credentials"`
	GroupIDs []string `json:"groupIds"`
}

// cmdImportUsers imports users from a JSON Lines file in batches, each
// batch one transaction.
func cmdImportUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	var file string
	var batchSize int
	var activate bool
	cfg, err := loadConfig("import users", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "-", "JSON Lines file, one Okta create-user body per line (- for standard input)")
		fs.IntVar(&batchSize, "batch", 1000, "users per transaction")
		fs.BoolVar(&activate, "activate", true, "activate the imported users")
	})
	if err != nil {
		return err
	}
	if batchSize < 1 || batchSize > 10000 {
		return errors.New("--batch must be between 1 and 10000")
	}
	in := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	a, err := build(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	start := time.Now()
	var batch []directory.CreateUserInput
	var lines []int
	total, refused, lineNo := 0, 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := a.directory.ImportUsers(ctx, batch)
		if err != nil {
			return fmt.Errorf("batch ending at line %d: %w", lineNo, describe(err))
		}
		for i, p := range res.Problems {
			fmt.Fprintf(stderr, "line %d: %v\n", lines[i], describe(p))
			refused++
		}
		total += res.Created
		batch, lines = batch[:0], lines[:0]
		return nil
	}
	for sc.Scan() {
		lineNo++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l importLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			fmt.Fprintf(stderr, "line %d: not a JSON object: %v\n", lineNo, err)
			refused++
			continue
		}
		c := directory.CreateUserInput{Profile: l.Profile, GroupIDs: l.GroupIDs, Activate: activate}
		if l.Credentials != nil && l.Credentials.Password != nil {
			c.ImportedHash = l.Credentials.Password.Hash
		}
		batch, lines = append(batch, c), append(lines, lineNo)
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	if err := a.db.Optimize(ctx); err != nil {
		return fmt.Errorf("refresh statistics: %w", err)
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "imported %d users (%d refused) in %s (%.0f users/s)\n", total, refused, d.Round(time.Millisecond), float64(total)/d.Seconds())
	return nil
}
