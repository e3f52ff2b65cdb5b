// Package amazonconnect provisions Amazon Connect users for Gatehouse: the
// user a person should be in a SAML-managed Connect instance (UserSpec) and
// its validation against Connect's rules, a client over the Connect API
// (AWS SDK for Go v2) that creates users without ever duplicating them,
// updates and removes them, and classifies AWS errors for the job engine, a
// planner that turns desired-versus-current into the fewest Update calls,
// and the per-account-and-region token bucket and backoff the job engine
// paces its calls with.
//
// Amazon Connect admits a federated person only when a Connect user exists
// whose Username equals the SAML RoleSessionName; this package is how that
// user comes to exist. It has no HTTP handlers and no SQL.
package amazonconnect
