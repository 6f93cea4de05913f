package kafkaws

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTenantClaim is the JWT claim naming the tenant, as in dojot.
const DefaultTenantClaim = "service"

// Auth configures how bearer JWTs are verified on GET /kafka-ws/v1/ticket.
// Exactly one key source must be set.
type Auth struct {
	// HS256Secret verifies HS256 tokens with a shared secret.
	HS256Secret []byte
	// PublicKeyFile is a PEM file holding one public key ("PUBLIC KEY",
	// "RSA PUBLIC KEY") or a certificate: RSA keys verify RS256, P-256
	// keys verify ES256.
	PublicKeyFile string
	// JWKSFile is a JSON Web Key Set file (RSA and P-256 EC keys). A token's
	// "kid" header selects the key; a token without kid needs a set of
	// exactly one key.
	JWKSFile string
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer, Audience string
	// TenantClaim names the string claim holding the tenant (default
	// DefaultTenantClaim).
	TenantClaim string
	// Leeway tolerates clock skew between the token issuer and this
	// server when checking exp and nbf (default 0: exact).
	Leeway time.Duration
}

// verifier validates bearer tokens.
type verifier struct {
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
	claim   string
}

// identity is what a valid token grants.
type identity struct {
	tenant string
	exp    time.Time // zero if the token has none (never: exp is required)
}

func newVerifier(a Auth, now func() time.Time) (*verifier, error) {
	n := 0
	for _, set := range []bool{len(a.HS256Secret) > 0, a.PublicKeyFile != "", a.JWKSFile != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("auth: set exactly one of hs256_secret, public_key_file and jwks_file")
	}
	v := &verifier{claim: a.TenantClaim}
	if v.claim == "" {
		v.claim = DefaultTenantClaim
	}
	var methods []string
	switch {
	case len(a.HS256Secret) > 0:
		secret := a.HS256Secret
		methods = []string{"HS256"}
		v.keyFunc = func(*jwt.Token) (any, error) { return secret, nil }
	case a.PublicKeyFile != "":
		data, err := os.ReadFile(a.PublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("auth: public_key_file: %w", err)
		}
		key, method, err := parsePublicKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("auth: public_key_file %s: %w", a.PublicKeyFile, err)
		}
		methods = []string{method}
		v.keyFunc = func(*jwt.Token) (any, error) { return key, nil }
	default:
		data, err := os.ReadFile(a.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("auth: jwks_file: %w", err)
		}
		set, err := parseJWKS(data)
		if err != nil {
			return nil, fmt.Errorf("auth: jwks_file %s: %w", a.JWKSFile, err)
		}
		methods = set.methods()
		v.keyFunc = set.keyFunc
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(methods), jwt.WithExpirationRequired(), jwt.WithTimeFunc(now), jwt.WithLeeway(a.Leeway)}
	if a.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(a.Issuer))
	}
	if a.Audience != "" {
		opts = append(opts, jwt.WithAudience(a.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// verify checks the token's signature, exp, nbf, iss and aud and returns
// its tenant. Errors are safe to show to the client: they never contain
// key material.
func (v *verifier) verify(token string) (identity, error) {
	claims := jwt.MapClaims{}
	if _, err := v.parser.ParseWithClaims(token, claims, v.keyFunc); err != nil {
		return identity{}, err
	}
	raw, ok := claims[v.claim]
	if !ok {
		return identity{}, fmt.Errorf("token has no %q claim naming the tenant", v.claim)
	}
	tenant, ok := raw.(string)
	if !ok || tenant == "" {
		return identity{}, fmt.Errorf("token claim %q must be a non-empty string", v.claim)
	}
	id := identity{tenant: tenant}
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		id.exp = exp.Time
	}
	return id, nil
}

func parsePublicKeyPEM(data []byte) (any, string, error) {
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return nil, "", errors.New("no PEM public key or certificate found")
		}
		var key any
		var err error
		switch blk.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(blk.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(blk.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(blk.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("PEM %s: %w", blk.Type, err)
		}
		return keyMethod(key)
	}
}

func keyMethod(key any) (any, string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return k, "RS256", nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, "", fmt.Errorf("EC key on curve %s: only P-256 (ES256) is supported", k.Curve.Params().Name)
		}
		return k, "ES256", nil
	}
	return nil, "", fmt.Errorf("unsupported public key type %T: want RSA (RS256) or EC P-256 (ES256)", key)
}

// jwks is a parsed JSON Web Key Set.
type jwks struct {
	byKid map[string]any
	all   []any
	algs  map[string]bool
}

func parseJWKS(data []byte) (*jwks, error) {
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	set := &jwks{byKid: map[string]any{}, algs: map[string]bool{}}
	b64 := base64.RawURLEncoding
	for i, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var key any
		switch k.Kty {
		case "RSA":
			n, err1 := b64.DecodeString(k.N)
			e, err2 := b64.DecodeString(k.E)
			if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
				return nil, fmt.Errorf("keys[%d]: RSA key needs base64url n and e", i)
			}
			key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
			set.algs["RS256"] = true
		case "EC":
			if k.Crv != "P-256" {
				return nil, fmt.Errorf("keys[%d]: EC curve %q: only P-256 (ES256) is supported", i, k.Crv)
			}
			x, err1 := b64.DecodeString(k.X)
			y, err2 := b64.DecodeString(k.Y)
			if err1 != nil || err2 != nil || len(x) != 32 || len(y) != 32 {
				return nil, fmt.Errorf("keys[%d]: EC key needs 32-byte base64url x and y", i)
			}
			if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
				return nil, fmt.Errorf("keys[%d]: EC point is not on P-256", i)
			}
			key = &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
			set.algs["ES256"] = true
		default:
			return nil, fmt.Errorf("keys[%d]: unsupported kty %q (want RSA or EC)", i, k.Kty)
		}
		if k.Kid != "" {
			set.byKid[k.Kid] = key
		}
		set.all = append(set.all, key)
	}
	if len(set.all) == 0 {
		return nil, errors.New("no signing keys")
	}
	return set, nil
}

func (s *jwks) methods() []string {
	var out []string
	for _, m := range []string{"RS256", "ES256"} {
		if s.algs[m] {
			out = append(out, m)
		}
	}
	return out
}

func (s *jwks) keyFunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		if len(s.all) == 1 {
			return s.all[0], nil
		}
		return nil, errors.New("token has no kid header and the key set holds several keys")
	}
	k, ok := s.byKid[kid]
	if !ok {
		return nil, fmt.Errorf("no key with kid %q", kid)
	}
	return k, nil
}
