package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
)

// genUsers writes n JSON Lines, one Okta create-user body each, with a
// salted SHA-256 password hash: the shape `gatehouse import users` reads.
// Logins are user%07d@example.com; first and last names cycle through 997
// and 1009 values, departments through 50 (the benchmarks filter on them).
func genUsers(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("users", flag.ContinueOnError)
	n := fs.Int("n", 1000000, "number of users")
	start := fs.Int("start", 0, "first user number")
	custom := fs.Bool("custom", false, "add the custom attribute department (declare it in the schema first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdout, 1<<20)
	for i := *start; i < *start+*n; i++ {
		salt := []byte(fmt.Sprintf("salt%07d", i))
		sum := sha256.Sum256(append(append([]byte{}, salt...), "Imported-Passw0rd"...))
		login := fmt.Sprintf("user%07d@example.com", i)
		dept := ""
		if *custom {
			dept = fmt.Sprintf(`,"department":"dept%d"`, i%50)
		}
		fmt.Fprintf(w, `{"profile":{"login":%q,"email":%q,"firstName":"First%d","lastName":"Last%d","title":"Agent","mobilePhone":"+1 555 %07d"%s},"credentials":{"password":{"hash":{"algorithm":"SHA-256","salt":%q,"saltOrder":"PREFIX","value":%q}}}}`+"\n",
			login, login, i%997, i%1009, i, dept, base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(sum[:]))
	}
	return w.Flush()
}
