// Package expr implements Gatehouse's attribute expression language: the
// common part of Okta Expression Language used by SAML attribute
// statements, the NameID template, app usernames and provisioning attribute
// mappings.
//
// Sources are either a bare expression, String.toLowerCase(user.email), or
// a template with ${...} placeholders, ${user.firstName}.${user.lastName}.
// A hand-written tokenizer and parser read the Okta syntax and build the
// syntax tree of github.com/expr-lang/expr, whose checker, optimizer,
// compiler and virtual machine do the rest. Only the functions listed in
// docs/expressions.md are callable; expr's own builtins, methods and any
// other Go value are out of reach.
//
// An Engine compiles once and caches programs (bounded LRU); a Program is
// immutable and may be evaluated concurrently against any Env. All errors
// are *Error with a kind, a line:column position and an admin-readable
// message.
package expr
