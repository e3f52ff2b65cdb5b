// Package aws holds what Gatehouse knows about federating people into AWS
// through IAM SAML 2.0, for the catalog apps amazon_aws ("AWS Account
// Federation") and amazon_connect: the apps' settings (Okta's settings.app
// keys) and their validation, the AWS sign-in ACS URL and default relay
// state, the role entitlements of a person (assignment profiles, group
// assignments or group mapping), the AWS SAML attributes built from them, and
// the IAM client that tests API credentials and imports the roles that trust
// Gatehouse's SAML providers.
//
// The package has no HTTP handlers and no SQL: surfaces call it with values
// they loaded, and render its typed errors.
package aws
