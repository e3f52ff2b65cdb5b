// Package archtest holds the test that keeps Gatehouse's dependency rules
// true: domain packages stay free of HTTP, SQL and templates; only sqlstore
// speaks SQL; only the SAML packages sign and verify XML; only the AWS
// integration, the sandbox and the demo call AWS.
package archtest
