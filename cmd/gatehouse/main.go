// Command gatehouse is the Gatehouse identity provider: one binary with
// subcommands to serve, migrate, create API tokens and administrators, run
// the AWS sandbox and the demo. It is the only composition root: it reads
// the configuration and builds every store and service explicitly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Gatehouse, a self-hosted identity provider.

Usage:
  gatehouse serve          [flags]   run the server (SQLite in ./gatehouse-data by default)
  gatehouse migrate        [flags]   apply database migrations and exit
  gatehouse admin create   --email E (--password P | --password-stdin) [flags]
                                     create a super administrator
  gatehouse token create   --name N [--role R] [--owner LOGIN] [flags]
                                     print one new API token (use as "Authorization: SSWS <token>")
  gatehouse import users   --file F [--batch N] [flags]
                                     import users with password hashes from JSON Lines (Okta create-user bodies)
  gatehouse sandbox aws    [--addr A] [--state-file F]
                                     run the local AWS sandbox (IAM, STS, sign-in, Amazon Connect)
  gatehouse demo           [--data DIR] [--listen A] [--sandbox-addr A]
                                     start Gatehouse and the AWS sandbox with the Amazon Connect story set up
  gatehouse version                  print the version

Run "gatehouse serve -h" for the configuration flags; every flag can also be
set as GATEHOUSE_<NAME> in the environment or as <name> in a YAML file given
with --config.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC(os.Getenv)
	tuneProcs(os.Getenv)
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gatehouse:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr, getenv)
	case "admin":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New(`usage: gatehouse admin create --email E --password P`)
		}
		return cmdAdminCreate(ctx, rest[1:], stdin, stdout, stderr, getenv)
	case "import":
		if len(rest) == 0 || rest[0] != "users" {
			return errors.New(`usage: gatehouse import users --file users.jsonl`)
		}
		return cmdImportUsers(ctx, rest[1:], stdin, stdout, stderr, getenv)
	case "token":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New(`usage: gatehouse token create --name NAME`)
		}
		return cmdTokenCreate(ctx, rest[1:], stdout, stderr, getenv)
	case "sandbox":
		return cmdSandbox(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr, getenv)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "gatehouse", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
