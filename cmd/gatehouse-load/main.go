// Command gatehouse-load generates benchmark data and load for Gatehouse:
// `users` writes N Okta create-user bodies with imported password hashes
// (the input of `gatehouse import users`); `signin` drives password
// sign-ins through the form; `sso` drives IdP-initiated SSO; `bound`
// measures one core's RSA-2048 signatures and argon2id hashes. Run it in its
// own process (and on its own core, with taskset) so that the server's
// figures do not include the client's work.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gatehouse-load users|bound|sso|signin [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "users":
		err = genUsers(os.Args[2:], os.Stdout)
	case "bound":
		err = cmdBound(os.Args[2:], os.Stdout)
	case "sso":
		err = cmdSSO(os.Args[2:], os.Stdout)
	case "signin":
		err = cmdSignIn(os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-load:", err)
		os.Exit(1)
	}
}
