package catalog

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/keys"
)

// MaxKeysPerApp bounds the signing keys an app keeps (AWS IAM accepts ten
// certificates per SAML provider).
const MaxKeysPerApp = 10

func keyContext(appID, kid string) string { return "app:" + appID + ":key:" + kid }

func checkKeyBits(bits int) error {
	switch bits {
	case 0, 2048, 3072, 4096:
		return nil
	}
	return errs.InvalidFields("Api validation failed: keyBits", errs.Field("keyBits", "keyBits: must be 2048, 3072 or 4096"))
}

// newKey generates a signing key and its certificate, sealing the private
// key for the app.
func (s *Service) newKey(appID string, bits int, validity time.Duration, now time.Time) (*KeyRecord, error) {
	if validity == 0 {
		validity = keys.DefaultCertificateValidity
	}
	key, cert, err := keys.GenerateSigningKey(bits, s.orgSlug(), now, validity, s.random())
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := keys.MarshalPrivateKeyDER(key)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	kid := keys.KeyID(cert)
	sealed, err := s.Sealer.Seal(der, keyContext(appID, kid))
	if err != nil {
		return nil, fmt.Errorf("seal signing key: %w", err)
	}
	return &KeyRecord{AppID: appID, Kid: kid, Certificate: cert.Raw, SealedKey: sealed, Bits: key.N.BitLen(),
		Created: now, ExpiresAt: cert.NotAfter.UTC()}, nil
}

// KeyStatus is ACTIVE for the app's signing key and INACTIVE for the other
// (published) keys.
func KeyStatus(a *App, kid string) string {
	if a.Credentials.SigningKid == kid {
		return KeyActive
	}
	return KeyInactive
}

// Keys lists an app's signing keys, oldest first.
func (s *Service) Keys(ctx context.Context, appID string) (*App, []*KeyRecord, error) {
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.Store.AppKeys(ctx, a.ID)
	return a, recs, err
}

// Key returns one signing key of an app.
func (s *Service) Key(ctx context.Context, appID, kid string) (*App, *KeyRecord, error) {
	a, recs, err := s.Keys(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range recs {
		if r.Kid == kid {
			return a, r, nil
		}
	}
	return nil, nil, errs.NotFoundf("Not found: Resource not found: %s (Key)", kid)
}

// GenerateKey adds a new signing key to an app. It is published (in the
// metadata) but not used until the app's credentials.signing.kid names it.
// validityYears is 1 or 2 (0 means 1); bits 2048 (also 0), 3072 or 4096.
func (s *Service) GenerateKey(ctx context.Context, appID string, validityYears, bits int) (*KeyRecord, error) {
	if validityYears == 0 {
		validityYears = 1
	}
	if validityYears < 1 || validityYears > 2 {
		return nil, errs.InvalidFields("Api validation failed: validityYears", errs.Field("validityYears", "validityYears: must be 1 or 2"))
	}
	if err := checkKeyBits(bits); err != nil {
		return nil, err
	}
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	rec, err := s.newKey(a.ID, bits, time.Duration(validityYears)*365*24*time.Hour, s.now())
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(a.ID)
		if err != nil {
			return err
		}
		recs, err := tx.AppKeysForUpdate(a.ID)
		if err != nil {
			return err
		}
		if len(recs) >= MaxKeysPerApp {
			return errs.InvalidFields("Api validation failed: key", errs.Field("key", "key: an app keeps at most %d signing keys; delete an inactive one first", MaxKeysPerApp))
		}
		if err := tx.InsertAppKey(rec); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "app.keys.generate", "Generate application signing key", audit.Success, appTarget(a), keyTarget(rec.Kid)))
	})
	if err != nil {
		return nil, err
	}
	s.cache.dropApp(a.ID)
	return rec, nil
}

// DeleteKey retires a signing key (a Gatehouse extension to Okta's API).
// The active key cannot be deleted.
func (s *Service) DeleteKey(ctx context.Context, appID, kid string) error {
	err := s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(appID)
		if err != nil {
			return err
		}
		recs, err := tx.AppKeysForUpdate(a.ID)
		if err != nil {
			return err
		}
		found := false
		for _, r := range recs {
			found = found || r.Kid == kid
		}
		if !found {
			return errs.NotFoundf("Not found: Resource not found: %s (Key)", kid)
		}
		if a.Credentials.SigningKid == kid {
			return &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: kid",
				Fields: []errs.FieldError{{Field: "kid", Message: "kid: the active signing key cannot be deleted; switch credentials.signing.kid to another key first"}}}
		}
		if err := tx.DeleteAppKey(a.ID, kid); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "app.keys.delete", "Delete application signing key", audit.Success, appTarget(a), keyTarget(kid)))
	})
	if err == nil {
		s.cache.dropApp(appID)
	}
	return err
}

// SigningKeys returns the key the SAML layer signs an app's messages with
// and the certificates it publishes (the active one first). Parsed keys
// are cached; the store is read every time, so a rotation by another node
// is seen at once.
func (s *Service) SigningKeys(ctx context.Context, appID string) (active *SigningKey, published []*x509.Certificate, err error) {
	// The app and its keys are two reads; a rotation and retirement in
	// between can leave the active kid missing, so try once more.
	for attempt := 0; ; attempt++ {
		active, published, err = s.signingKeys(ctx, appID)
		if err != errNoActiveKey || attempt == 1 {
			if err == errNoActiveKey {
				err = fmt.Errorf("catalog: app %s: %w", appID, err)
			}
			return active, published, err
		}
	}
}

var errNoActiveKey = errors.New("the active signing key is missing")

func (s *Service) signingKeys(ctx context.Context, appID string) (active *SigningKey, published []*x509.Certificate, err error) {
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	recs, err := s.Store.AppKeys(ctx, a.ID)
	if err != nil {
		return nil, nil, err
	}
	sort.SliceStable(recs, func(i, j int) bool {
		return recs[i].Kid == a.Credentials.SigningKid && recs[j].Kid != a.Credentials.SigningKid
	})
	for _, r := range recs {
		sk, err := s.cache.get(s.Sealer, r, r.Kid == a.Credentials.SigningKid)
		if err != nil {
			return nil, nil, err
		}
		if r.Kid == a.Credentials.SigningKid {
			active = sk
		}
		published = append(published, sk.Certificate)
	}
	if active == nil {
		return nil, nil, errNoActiveKey
	}
	return active, published, nil
}

// keyCache holds parsed keys by app and kid. A kid is the hash of its
// certificate, so an entry never goes stale; entries are dropped when an
// app's keys change, and everything when the cache is full.
type keyCache struct {
	mu sync.Mutex
	m  map[string]*SigningKey
}

const keyCacheSize = 4096

func (c *keyCache) get(sealer Sealer, r *KeyRecord, withPrivate bool) (*SigningKey, error) {
	id := r.AppID + "/" + r.Kid
	c.mu.Lock()
	sk := c.m[id]
	c.mu.Unlock()
	if sk != nil && (sk.Key != nil || !withPrivate) {
		return sk, nil
	}
	cert, err := x509.ParseCertificate(r.Certificate)
	if err != nil {
		return nil, fmt.Errorf("catalog: certificate of key %s: %w", r.Kid, err)
	}
	sk = &SigningKey{Kid: r.Kid, Certificate: cert}
	if withPrivate {
		der, err := sealer.Open(r.SealedKey, keyContext(r.AppID, r.Kid))
		if err != nil {
			return nil, fmt.Errorf("catalog: open key %s: %w", r.Kid, err)
		}
		sk.Key, err = keys.ParsePrivateKeyDER(der)
		clear(der)
		if err != nil {
			return nil, fmt.Errorf("catalog: key %s: %w", r.Kid, err)
		}
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= keyCacheSize {
		c.m = map[string]*SigningKey{}
	}
	c.m[id] = sk
	c.mu.Unlock()
	return sk, nil
}

func (c *keyCache) dropApp(appID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if strings.HasPrefix(k, appID+"/") {
			delete(c.m, k)
		}
	}
}

// cachedKeys reports how many parsed keys are cached (for tests).
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
