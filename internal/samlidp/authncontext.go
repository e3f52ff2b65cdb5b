package samlidp

import "errors"

// Strength is how strong an authentication is, in the order Gatehouse
// deems its authentication context classes (the responder's judgement
// that saml-core-2.0-os §3.3.2.2.1 leaves to the IdP for the minimum,
// maximum and better comparisons).
type Strength int

// The strengths, weakest first. Every sign-in Gatehouse makes (a password,
// a passkey, an external identity provider) is at least
// StrengthProtectedPassword: it happens over the protected transport of
// the sign-in pages. A session that verified a second factor, or signed
// in with a passkey that verified the person, is StrengthMultiFactor.
const (
	StrengthUnspecified Strength = iota
	StrengthPassword
	StrengthProtectedPassword
	StrengthMultiFactor
)

// MaxStrength is the strongest authentication Gatehouse can perform (by
// stepping a session up to a second factor).
const MaxStrength = StrengthMultiFactor

// strengthOf ranks the classes Gatehouse can vouch for. Any other class
// (X509, Kerberos, TLSClient, a private URI) is unranked: it is asserted
// only when it is the app's configured class and the request names it.
var strengthOf = map[string]Strength{
	AuthnContextUnspecified:                StrengthUnspecified,
	AuthnContextPassword:                   StrengthPassword,
	AuthnContextPasswordProtectedTransport: StrengthProtectedPassword,
	AuthnContextREFEDSMFA:                  StrengthMultiFactor,
}

// classOf is the class Gatehouse asserts for an authentication of each
// strength.
var classOf = [...]string{
	StrengthUnspecified:       AuthnContextUnspecified,
	StrengthPassword:          AuthnContextPassword,
	StrengthProtectedPassword: AuthnContextPasswordProtectedTransport,
	StrengthMultiFactor:       AuthnContextREFEDSMFA,
}

// ClassStrength returns the strength of a ranked class.
func ClassStrength(classRef string) (Strength, bool) {
	s, ok := strengthOf[classRef]
	return s, ok
}

// errNoAuthnContext is the Respondable Requester/NoAuthnContext error.
func errNoAuthnContext(err error) error {
	return &RequestError{Status: StatusRequester, SubStatus: StatusNoAuthnContext,
		Msg: "the requested authentication context is not available for this application", Respondable: true, Err: err}
}

// ChooseAuthnContext returns the AuthnContextClassRef to assert for an
// authentication of strength achieved, answering rac (nil: the request
// named none, or there was no request) per saml-core-2.0-os §3.3.2.2.1.
// The class refs are taken in the requester's order of preference:
//
//   - no RequestedAuthnContext: the app's configured class (as Okta does);
//   - exact: the first listed class that the authentication satisfies (a
//     ranked class no stronger than achieved, or the app's configured
//     class);
//   - minimum: the class of achieved when it is at least as strong as a
//     listed ranked class (or the configured class when it is listed);
//   - better: the class of achieved when it is stronger than a listed
//     ranked class;
//   - maximum: the strongest class that exceeds neither achieved nor at
//     least one listed ranked class (or the configured class when it is
//     listed before any ranked class).
//
// When nothing listed can be satisfied the error is a Respondable
// Requester/NoAuthnContext *RequestError. Calling it again with
// MaxStrength tells whether stepping up would satisfy the request.
func (sp *ServiceProvider) ChooseAuthnContext(rac *RequestedAuthnContext, achieved Strength) (string, error) {
	configured := sp.authnContextClassRef()
	if rac == nil {
		return configured, nil
	}
	if achieved > MaxStrength {
		achieved = MaxStrength
	}
	best := Strength(-1) // maximum: the strongest answer so far
	for _, ref := range rac.ClassRefs {
		want, ranked := strengthOf[ref]
		if !ranked {
			// An unranked class is compared with nothing: only the
			// configured class itself answers exact, minimum or maximum
			// (maximum: when no ranked class before it answered).
			if ref == configured && rac.Comparison != "better" && best < 0 {
				return configured, nil
			}
			continue
		}
		switch rac.Comparison {
		case "exact":
			if want <= achieved {
				return ref, nil
			}
		case "minimum":
			if want <= achieved {
				return classOf[achieved], nil
			}
		case "better":
			if want < achieved {
				return classOf[achieved], nil
			}
		case "maximum":
			best = max(best, min(want, achieved))
		}
	}
	if best >= 0 {
		return classOf[best], nil
	}
	if len(rac.ClassRefs) == 0 {
		return "", errNoAuthnContext(errors.New("no AuthnContextClassRef requested"))
	}
	return "", errNoAuthnContext(nil)
}
