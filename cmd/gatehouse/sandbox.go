package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"github.com/gatehouse/gatehouse/internal/awssandbox"
)

// cmdSandbox runs the AWS sandbox: IAM, STS, AWS sign-in and Amazon
// Connect on loopback, for trying the Amazon Connect story without AWS.
func cmdSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "aws" {
		return errors.New("usage: gatehouse sandbox aws [--addr 127.0.0.1:4566] [--state-file FILE]")
	}
	fs := flag.NewFlagSet("gatehouse sandbox aws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4566", "address to listen on (loopback)")
	state := fs.String("state-file", "", "also write the sandbox's URL and credentials to this JSON file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return awssandbox.Run(ctx, *addr, *state, stdout)
}
