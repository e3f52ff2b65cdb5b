package mfa

import (
	"bytes"
	"encoding/base32"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters every authenticator app understands (RFC 6238's
// defaults, as Google Authenticator and Okta Verify use them).
const (
	TOTPPeriod     = 30 // seconds per time step
	TOTPDigits     = 6
	totpSecretSize = 20 // bytes: 160 bits, RFC 4226's recommendation
	// TOTPDrift is how many time steps before and after the current one
	// a code is accepted from, for clocks that are slightly off.
	TOTPDrift = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPEnrollment is what a person needs to set up an authenticator app.
// It exists only in the answer to the enrolment.
type TOTPEnrollment struct {
	// SharedSecret is the seed in base32 without padding (the "manual
	// key").
	SharedSecret string
	// URL is the otpauth:// URI the QR code encodes.
	URL string
}

// Grouped returns the shared secret in groups of four characters, easier
// to type.
func (e TOTPEnrollment) Grouped() string {
	var b strings.Builder
	for i, r := range e.SharedSecret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// QRCode renders the otpauth URI as a PNG image of size×size pixels.
func (e TOTPEnrollment) QRCode(size int) ([]byte, error) {
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func newTOTPEnrollment(issuer, account string, secret []byte) (TOTPEnrollment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: TOTPPeriod, Secret: secret,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return TOTPEnrollment{}, err
	}
	return TOTPEnrollment{SharedSecret: key.Secret(), URL: key.URL()}, nil
}

// TOTPStep is the RFC 6238 time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// NormalizeCode removes the spaces and dashes people type into codes.
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// matchTOTP finds the time step within the drift window of now whose code
// is code. It tries the current step first.
func matchTOTP(secret []byte, code string, now time.Time) (int64, bool) {
	code = NormalizeCode(code)
	if len(code) != TOTPDigits {
		return 0, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	enc := b32.EncodeToString(secret)
	cur := TOTPStep(now)
	for _, d := range []int64{0, -1, 1} {
		if d < -TOTPDrift || d > TOTPDrift {
			continue
		}
		step := cur + d
		ok, err := hotp.ValidateCustom(code, uint64(step), enc, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return step, true
		}
	}
	return 0, false
}

// TOTPCode returns the code of secret (base32) at t; tests and the
// built-in demo use it as an authenticator app would.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
