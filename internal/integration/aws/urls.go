package aws

import "net/url"

// Audience is the AWS service provider's entity ID, sent as the assertion's
// Audience for every AWS app.
const Audience = "urn:amazon:webservices"

// AWS sign-in ACS URLs by partition.
const (
	GlobalACSURL   = "https://signin.aws.amazon.com/saml"
	ChinaACSURL    = "https://signin.amazonaws.cn/saml"
	GovCloudACSURL = "https://signin.amazonaws-us-gov.com/saml"
)

// ACSURL is where the SAML response is posted and the value of Recipient and
// Destination: the overrideAcsURL when set, else the sign-in endpoint of the
// partition (global or, in the AWS partition, regional).
func ACSURL(s Settings) string {
	if s.OverrideACSURL != "" {
		return s.OverrideACSURL
	}
	switch Partition(s.EnvironmentType) {
	case PartitionChina:
		return ChinaACSURL
	case PartitionGovCloud:
		return GovCloudACSURL
	}
	if s.SignInEndpoint == SignInRegional && s.SignInRegion != "" {
		return "https://" + s.SignInRegion + ".signin.aws.amazon.com/saml"
	}
	return GlobalACSURL
}

// DefaultRelayState is the relay state Gatehouse sends when the sign-on
// settings set none: for an Amazon Connect app (one with an instance ID) the
// Connect federation URL of the instance, with ?destination= when a
// destination page is set; "" otherwise.
//
//	AWS:      https://<region>.console.aws.amazon.com/connect/federate/<id>
//	GovCloud: https://console.amazonaws-us-gov.com/connect/federate/<id>
//	China:    https://<region>.console.amazonaws.cn/connect/federate/<id> (assumed)
func DefaultRelayState(s Settings) string {
	if s.InstanceID == "" {
		return ""
	}
	var base string
	switch Partition(s.EnvironmentType) {
	case PartitionGovCloud:
		base = "https://console.amazonaws-us-gov.com"
	case PartitionChina:
		base = "https://" + s.Region + ".console.amazonaws.cn"
	default:
		base = "https://" + s.Region + ".console.aws.amazon.com"
	}
	u := base + "/connect/federate/" + url.PathEscape(s.InstanceID)
	if s.Destination != "" {
		u += "?destination=" + url.QueryEscape(s.Destination)
	}
	return u
}
