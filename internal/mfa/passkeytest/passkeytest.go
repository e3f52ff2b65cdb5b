// Package passkeytest is a software WebAuthn authenticator for tests: it
// answers the options of navigator.credentials.create and .get with a
// P-256 key (attestation "none", ES256 assertions), written from the
// WebAuthn specification independently of the relying party library, so
// Gatehouse's ceremonies are checked against a second implementation.
// Browser tests use Chromium's virtual authenticator instead.
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator holds one credential.
type Authenticator struct {
	Key    *ecdsa.PrivateKey
	CredID []byte
	// Counter is the signature counter; each assertion increments it
	// first (set it back to simulate a clone).
	Counter uint32
	// UserVerified sets the UV flag.
	UserVerified bool
	userHandle   []byte
}

// New makes an authenticator with a fresh key and credential ID.
func New() *Authenticator {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &Authenticator{Key: k, CredID: id, UserVerified: true}
}

var b64 = base64.RawURLEncoding

type options struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

// parseOptions accepts {"publicKey": {...}} or the inner object.
func parseOptions(raw []byte) (options, error) {
	var wrapped struct {
		PublicKey *options `json:"publicKey"`
	}
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.PublicKey != nil {
		return *wrapped.PublicKey, nil
	}
	var o options
	err := json.Unmarshal(raw, &o)
	if o.Challenge == "" {
		return o, errors.New("passkeytest: options without a challenge")
	}
	return o, err
}

func (a *Authenticator) flags(attested bool) byte {
	f := byte(0x01) // UP
	if a.UserVerified {
		f |= 0x04
	}
	if attested {
		f |= 0x40
	}
	return f
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

// SetUserHandle sets the user handle that assertions return (Create sets
// it from the options' user.id), to present a credential under another
// person's handle or under none (nil).
func (a *Authenticator) SetUserHandle(h []byte) { a.userHandle = h }

// Registration is an answer to navigator.credentials.create.
type Registration struct {
	AttestationObject []byte
	ClientDataJSON    []byte
	CredentialID      []byte
}

// JSON is the PublicKeyCredential as a browser's toJSON gives it.
func (r Registration) JSON() []byte {
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(r.CredentialID), "rawId": b64.EncodeToString(r.CredentialID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(r.ClientDataJSON), "attestationObject": b64.EncodeToString(r.AttestationObject)},
	})
	return b
}

// Create registers the credential for the relying party of optionsJSON,
// as a page of origin would.
func (a *Authenticator) Create(optionsJSON []byte, origin string) (Registration, error) {
	o, err := parseOptions(optionsJSON)
	if err != nil {
		return Registration{}, err
	}
	if o.RP.ID == "" {
		return Registration{}, errors.New("passkeytest: creation options without rp.id")
	}
	if a.userHandle, err = b64.DecodeString(o.User.ID); err != nil {
		return Registration{}, err
	}
	rpHash := sha256.Sum256([]byte(o.RP.ID))
	x := make([]byte, 32)
	y := make([]byte, 32)
	a.Key.PublicKey.X.FillBytes(x)
	a.Key.PublicKey.Y.FillBytes(y)
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		return Registration{}, err
	}
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(true))
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(a.CredID)))
	auth = append(auth, a.CredID...)
	auth = append(auth, cose...)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return Registration{}, err
	}
	return Registration{AttestationObject: att, ClientDataJSON: clientData("webauthn.create", o.Challenge, origin), CredentialID: a.CredID}, nil
}

// Assertion is an answer to navigator.credentials.get.
type Assertion struct {
	ClientDataJSON    []byte
	AuthenticatorData []byte
	Signature         []byte
	CredentialID      []byte
	UserHandle        []byte
}

// JSON is the PublicKeyCredential as a browser's toJSON gives it.
func (s Assertion) JSON() []byte {
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(s.CredentialID), "rawId": b64.EncodeToString(s.CredentialID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(s.ClientDataJSON), "authenticatorData": b64.EncodeToString(s.AuthenticatorData),
			"signature": b64.EncodeToString(s.Signature), "userHandle": b64.EncodeToString(s.UserHandle)},
	})
	return b
}

// Get signs the challenge of optionsJSON for origin, as the credential of
// relying party rpID ("" takes the options' rpId).
func (a *Authenticator) Get(optionsJSON []byte, rpID, origin string) (Assertion, error) {
	o, err := parseOptions(optionsJSON)
	if err != nil {
		return Assertion{}, err
	}
	if rpID == "" {
		rpID = o.RPID
	}
	a.Counter++
	rpHash := sha256.Sum256([]byte(rpID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, a.flags(false))
	auth = binary.BigEndian.AppendUint32(auth, a.Counter)
	cd := clientData("webauthn.get", o.Challenge, origin)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.Key, digest[:])
	if err != nil {
		return Assertion{}, err
	}
	return Assertion{ClientDataJSON: cd, AuthenticatorData: auth, Signature: sig, CredentialID: a.CredID, UserHandle: a.userHandle}, nil
}
