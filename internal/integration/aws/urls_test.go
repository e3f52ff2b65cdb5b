package aws

import "testing"

func TestACSURLAndRelayState(t *testing.T) {
	tests := []struct {
		name      string
		s         Settings
		acs       string
		relay     string
		apiRegion string
	}{
		{name: "aws global, no connect", s: Settings{EnvironmentType: EnvAWS},
			acs: "https://signin.aws.amazon.com/saml", relay: "", apiRegion: "us-east-1"},
		{name: "aws connect", s: Settings{EnvironmentType: EnvAWS, Region: "eu-west-2", InstanceID: inst},
			acs: "https://signin.aws.amazon.com/saml", relay: "https://eu-west-2.console.aws.amazon.com/connect/federate/" + inst, apiRegion: "eu-west-2"},
		{name: "aws connect with destination", s: Settings{Region: "us-east-1", InstanceID: inst, Destination: "/ccp-v2/chat"},
			acs: "https://signin.aws.amazon.com/saml", relay: "https://us-east-1.console.aws.amazon.com/connect/federate/" + inst + "?destination=%2Fccp-v2%2Fchat", apiRegion: "us-east-1"},
		{name: "destination with query characters", s: Settings{Region: "us-east-1", InstanceID: inst, Destination: "/agent-app-v2?x=1&y=2"},
			acs: GlobalACSURL, relay: "https://us-east-1.console.aws.amazon.com/connect/federate/" + inst + "?destination=%2Fagent-app-v2%3Fx%3D1%26y%3D2", apiRegion: "us-east-1"},
		{name: "aws regional sign-in", s: Settings{EnvironmentType: EnvAWS, SignInEndpoint: SignInRegional, SignInRegion: "eu-west-2", Region: "eu-west-2", InstanceID: inst},
			acs: "https://eu-west-2.signin.aws.amazon.com/saml", relay: "https://eu-west-2.console.aws.amazon.com/connect/federate/" + inst, apiRegion: "eu-west-2"},
		{name: "override ACS wins", s: Settings{EnvironmentType: EnvAWS, OverrideACSURL: "http://127.0.0.1:4566/saml", SignInEndpoint: SignInRegional, SignInRegion: "eu-west-2"},
			acs: "http://127.0.0.1:4566/saml", apiRegion: "us-east-1"},
		{name: "China", s: Settings{EnvironmentType: EnvChina, Region: "cn-northwest-1", InstanceID: inst},
			acs: "https://signin.amazonaws.cn/saml", relay: "https://cn-northwest-1.console.amazonaws.cn/connect/federate/" + inst, apiRegion: "cn-northwest-1"},
		{name: "China no region", s: Settings{EnvironmentType: EnvChina}, acs: "https://signin.amazonaws.cn/saml", apiRegion: "cn-north-1"},
		{name: "GovCloud", s: Settings{EnvironmentType: EnvGovCloud, Region: "us-gov-west-1", InstanceID: inst, Destination: "/ccp-v2"},
			acs: "https://signin.amazonaws-us-gov.com/saml", relay: "https://console.amazonaws-us-gov.com/connect/federate/" + inst + "?destination=%2Fccp-v2", apiRegion: "us-gov-west-1"},
		{name: "GovCloud no region", s: Settings{EnvironmentType: EnvGovCloud}, acs: GovCloudACSURL, apiRegion: "us-gov-west-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ACSURL(tc.s); got != tc.acs {
				t.Errorf("ACSURL = %s, want %s", got, tc.acs)
			}
			if got := DefaultRelayState(tc.s); got != tc.relay {
				t.Errorf("DefaultRelayState = %s, want %s", got, tc.relay)
			}
			if got := APIRegion(tc.s); got != tc.apiRegion {
				t.Errorf("APIRegion = %s, want %s", got, tc.apiRegion)
			}
		})
	}
	if Audience != "urn:amazon:webservices" {
		t.Fatal("audience")
	}
}
