package oktaapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog"
)

// FuzzDecodeSignOn feeds arbitrary settings.signOn bodies to the decoder:
// it never panics, and a body it accepts decodes to a SignOn that survives
// a JSON round trip unchanged.
func FuzzDecodeSignOn(f *testing.F) {
	seed, _ := json.Marshal(catalog.TemplateFor("amazon_aws").DefaultSignOn)
	f.Add(string(seed))
	f.Add(`{"ssoAcsUrl":"https://sp/acs","inlineHooks":[{"id":"x"}],"acsEndpoints":[{"url":"https://a","index":3}]}`)
	f.Add(`{"attributeStatements":[{"type":"GROUP","name":"g","filterType":"REGEX","filterValue":".*"}],"slo":{"enabled":true}}`)
	f.Add(`{"unknown":1}`)
	f.Add(`null`)
	f.Add(`[1]`)
	f.Add(`{"responseSigned":"yes"}`)
	f.Fuzz(func(t *testing.T, body string) {
		base := catalog.TemplateFor("").DefaultSignOn
		so, err := decodeSignOn(json.RawMessage(body), base)
		if err != nil || so == nil {
			return
		}
		b, err := json.Marshal(so)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var again catalog.SignOn
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		b2, _ := json.Marshal(again)
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("unstable: %s vs %s", b, b2)
		}
	})
}
