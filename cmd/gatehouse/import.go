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
	"runtime/debug"
	"time"

	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
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

// checkpointEvery is how many imported users pass between two checkpoints
// of the SQLite WAL during an import.
const checkpointEvery = 50000

// cmdImportUsers imports users from a JSON Lines file in batches, each
// batch one transaction. The result is what the API would have made of the
// same bodies (POST /api/v1/users?activate=...): the same rows, the same
// events (user.lifecycle.create, and user.lifecycle.activate when
// activating), the same uniqueness checks. A line that the API would refuse
// is reported with its line number and skipped; the other users of its
// batch are imported. A crash leaves whole batches.
func cmdImportUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	var file string
	var batchSize int
	var activate bool
	var cacheMB int
	cfg, err := loadConfig("import users", args, stderr, getenv, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "-", "JSON Lines file, one Okta create-user body per line (- for standard input)")
		fs.IntVar(&batchSize, "batch", 5000, "users per transaction")
		fs.IntVar(&cacheMB, "cache-mb", 512, "SQLite page cache of the import, in MiB (the import's memory is about twice this)")
		fs.BoolVar(&activate, "activate", true, "activate the imported users")
	})
	if err != nil {
		return err
	}
	if batchSize < 1 || batchSize > 10000 {
		return errors.New("--batch must be between 1 and 10000")
	}
	if cacheMB < 2 || cacheMB > 65536 {
		return errors.New("--cache-mb must be between 2 and 65536")
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
	// The import's live Go heap is small (a batch of users and events; the
	// SQLite page cache is allocated outside it), so collecting at 4x
	// instead of 2x its size costs a few MiB and saves most GC cycles.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	endBulk, err := a.db.Bulk(ctx, cacheMB)
	if err != nil {
		return err
	}
	defer endBulk()
	sinceCheckpoint := 0
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
		if errs.Is(err, errs.Invalid) {
			// A user of the batch conflicts with an existing one (or
			// another of the batch): import them one by one, so that
			// only the conflicting ones are refused.
			res = directory.ImportResult{Problems: map[int]error{}}
			for i := range batch {
				r, err := a.directory.ImportUsers(ctx, batch[i:i+1])
				switch {
				case errs.Is(err, errs.Invalid):
					res.Problems[i] = err
				case err != nil:
					return fmt.Errorf("line %d: %w", lines[i], describe(err))
				default:
					res.Created += r.Created
					if p, ok := r.Problems[0]; ok {
						res.Problems[i] = p
					}
				}
			}
		} else if err != nil {
			return fmt.Errorf("batch ending at line %d: %w", lineNo, describe(err))
		}
		for i := range batch {
			if p, ok := res.Problems[i]; ok {
				fmt.Fprintf(stderr, "line %d: %v\n", lines[i], describe(p))
				refused++
			}
		}
		total += res.Created
		sinceCheckpoint += len(batch)
		batch, lines = batch[:0], lines[:0]
		if sinceCheckpoint >= checkpointEvery {
			sinceCheckpoint = 0
			if err := a.db.Checkpoint(ctx); err != nil {
				return err
			}
		}
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
