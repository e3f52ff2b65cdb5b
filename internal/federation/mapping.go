package federation

import (
	"strings"

	"github.com/gatehouse/gatehouse/internal/expr"
)

// rewriteIdPUser turns idpuser.x outside string literals into source.x:
// the expression engine reads the provider's claims as source (and as
// appuser, the name Okta's IdP profile mappings use).
func rewriteIdPUser(src string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		if quote != 0 {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			} else if c == quote {
				quote = 0
			}
			continue
		}
		if c == '"' || c == '\'' {
			quote = c
			b.WriteByte(c)
			continue
		}
		if strings.HasPrefix(src[i:], "idpuser.") && (i == 0 || !isIdentByte(src[i-1])) {
			b.WriteString("source.")
			i += len("idpuser.") - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (s *Service) compile(src string) (*expr.Program, error) {
	return s.Expr.Compile(rewriteIdPUser(src))
}

// claimsEnv is the expression environment of a provider account.
func claimsEnv(claims map[string]any) expr.Env {
	return expr.Env{Source: claims, AppUser: claims}
}

// MapProfile evaluates the provider's profile mapping over claims. Empty
// results are left out.
func (s *Service) MapProfile(p *IdP, claims map[string]any) (map[string]any, error) {
	mapping := p.Provisioning.ProfileMapping
	if len(mapping) == 0 {
		mapping = DefaultMapping()
	}
	out := map[string]any{}
	env := claimsEnv(claims)
	for attr, src := range mapping {
		prog, err := s.compile(src)
		if err != nil {
			return nil, err
		}
		v, err := prog.String(env)
		if err != nil {
			return nil, err
		}
		if v = strings.TrimSpace(v); v != "" {
			out[attr] = v
		}
	}
	return out, nil
}

// UserName evaluates the provider's username template over claims.
func (s *Service) UserName(p *IdP, claims map[string]any) (string, error) {
	prog, err := s.compile(p.Subject.UserNameTemplate)
	if err != nil {
		return "", err
	}
	v, err := prog.String(claimsEnv(claims))
	return strings.TrimSpace(v), err
}
