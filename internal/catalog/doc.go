// Package catalog holds the applications Gatehouse signs users in to: the
// catalog of app templates (custom SAML 2.0, AWS Account Federation, Amazon
// Connect), app instances with their SAML sign-on settings and per-app
// signing keys, and assignments of users and groups to apps.
//
// The shapes follow Okta's Apps API so that the oktaapi surface can render
// them directly. Validation happens here, at save time: every URL, every
// expression (compiled with internal/expr) and every certificate is checked
// and all problems are reported together as errs field errors. Storage is
// behind Store and Tx, implemented by sqlstore; the conformance subpackage
// is the test suite every Store must pass.
//
// Two extension points let other domains take part without this package
// knowing them: ProfileValidator checks assignment profiles for the apps of
// one template (the AWS integration restricts role and samlRoles), and
// ChangeHook is told, inside the transaction, about every assignment and
// app lifecycle change (provisioning enqueues its jobs there).
package catalog
