package kafkaws

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func okClaims() jwt.MapClaims {
	return jwt.MapClaims{"service": "acme", "exp": time.Now().Add(time.Hour).Unix()}
}

func TestVerifyPublicKeyPEM(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	v, err := newVerifier(Auth{PublicKeyFile: writeFile(t, "rsa.pem", pubPEM)}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.verify(sign(t, jwt.SigningMethodRS256, rk, "", okClaims())); err != nil || id.tenant != "acme" || id.exp.IsZero() {
		t.Fatalf("RS256: %+v %v", id, err)
	}
	// Algorithm confusion: HS256 signed with the public key's bytes.
	if _, err := v.verify(sign(t, jwt.SigningMethodHS256, pubPEM, "", okClaims())); err == nil {
		t.Fatal("HS256 token accepted by an RS256 verifier")
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := v.verify(sign(t, jwt.SigningMethodRS256, other, "", okClaims())); err == nil {
		t.Fatal("token of another key accepted")
	}

	// A certificate holding a P-256 key verifies ES256.
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	cert, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ek.PublicKey, ek)
	v, err = newVerifier(Auth{PublicKeyFile: writeFile(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}))}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.verify(sign(t, jwt.SigningMethodES256, ek, "", okClaims())); err != nil {
		t.Fatalf("ES256: %v", err)
	}

	// Load failures name the file and the problem.
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	for name, data := range map[string]string{
		"only P-256": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der384})),
		"no PEM":     "hello",
		"PEM PUBLIC": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("junk")})),
	} {
		if _, err := newVerifier(Auth{PublicKeyFile: writeFile(t, "k.pem", []byte(data))}, time.Now); err == nil || !strings.Contains(err.Error(), "public_key_file") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := newVerifier(Auth{PublicKeyFile: "/no/such/file.pem"}, time.Now); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := newVerifier(Auth{}, time.Now); err == nil {
		t.Error("no key source accepted")
	}
	if _, err := newVerifier(Auth{HS256Secret: []byte("x"), JWKSFile: "x"}, time.Now); err == nil {
		t.Error("two key sources accepted")
	}
}

func TestVerifyJWKS(t *testing.T) {
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	b64 := base64.RawURLEncoding
	pad := func(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }
	set := map[string]any{"keys": []any{
		map[string]any{"kty": "EC", "kid": "ec1", "crv": "P-256", "x": b64.EncodeToString(pad(ek.X.Bytes())), "y": b64.EncodeToString(pad(ek.Y.Bytes()))},
		map[string]any{"kty": "RSA", "kid": "rsa1", "n": b64.EncodeToString(rk.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(rk.E)).Bytes())},
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
	}}
	data, _ := json.Marshal(set)
	v, err := newVerifier(Auth{JWKSFile: writeFile(t, "jwks.json", data)}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.verify(sign(t, jwt.SigningMethodES256, ek, "ec1", okClaims())); err != nil {
		t.Errorf("ES256 kid ec1: %v", err)
	}
	if _, err := v.verify(sign(t, jwt.SigningMethodRS256, rk, "rsa1", okClaims())); err != nil {
		t.Errorf("RS256 kid rsa1: %v", err)
	}
	for name, tok := range map[string]string{
		"unknown kid":       sign(t, jwt.SigningMethodES256, ek, "nope", okClaims()),
		"no kid, many keys": sign(t, jwt.SigningMethodES256, ek, "", okClaims()),
		"wrong key for kid": sign(t, jwt.SigningMethodRS256, rk, "ec1", okClaims()),
		"encryption key":    sign(t, jwt.SigningMethodRS256, rk, "enc", okClaims()),
	} {
		if _, err := v.verify(tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, doc := range map[string]string{
		"not JSON":  "{",
		"no keys":   `{"keys":[]}`,
		"bad curve": `{"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]}`,
		"off curve": `{"keys":[{"kty":"EC","crv":"P-256","x":"` + b64.EncodeToString(make([]byte, 32)) + `","y":"` + b64.EncodeToString(make([]byte, 32)) + `"}]}`,
		"bad kty":   `{"keys":[{"kty":"oct","k":"AA"}]}`,
	} {
		if _, err := newVerifier(Auth{JWKSFile: writeFile(t, "j.json", []byte(doc))}, time.Now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTicketLayoutAndLimits(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	tk, err := newTickets([]byte("secret"), 30*time.Second, 3, clock)
	if err != nil {
		t.Fatal(err)
	}
	jwtExp := now.Add(time.Hour)
	s, err := tk.issue("acme", jwtExp)
	if err != nil || len(s) != 64 || strings.ToLower(s) != s {
		t.Fatalf("ticket %q %v", s, err)
	}
	r, err := tk.redeem(s)
	if err != nil || !r.jwtExp.Equal(jwtExp) || string(r.tag[:]) != string(tk.tenantTag("acme")) {
		t.Fatalf("redeem: %+v %v", r, err)
	}
	if _, err := tk.redeem(s); err != errTicketUsed {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := tk.redeem(strings.ToUpper(s)); err != errTicketUsed {
		t.Fatalf("reuse in upper case: %v", err)
	}
	// The used-set is bounded: while full of unexpired tickets, new ones
	// are refused rather than a used one forgotten; expired ones are swept.
	for range 2 {
		x, _ := tk.issue("acme", time.Time{})
		if _, err := tk.redeem(x); err != nil {
			t.Fatal(err)
		}
	}
	x, _ := tk.issue("acme", time.Time{})
	if _, err := tk.redeem(x); err != errTicketsFull {
		t.Fatalf("full: %v", err)
	}
	now = now.Add(31 * time.Second)
	if _, err := tk.redeem(x); err != errTicketExpired {
		t.Fatalf("expired: %v", err)
	}
	tk.sweep()
	if len(tk.used) != 0 {
		t.Fatalf("sweep left %d", len(tk.used))
	}
	y, _ := tk.issue("acme", time.Time{})
	if r, err := tk.redeem(y); err != nil || !r.jwtExp.IsZero() {
		t.Fatalf("after sweep: %+v %v", r, err)
	}
}

func TestAccess(t *testing.T) {
	a, err := newAccess(map[string][]string{"acme": {"shared.*", "alerts", "*.public.*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tenant, topic string
		ok            bool
	}{
		{"acme", "acme.x", true}, {"acme", "acme.x.y", true}, {"acme", "acme", false}, {"acme", "acmex.y", false},
		{"acme", "shared.a", true}, {"acme", "shared", false}, {"acme", "alerts", true}, {"acme", "alerts.x", false},
		{"acme", "foo.public.bar", true}, {"other", "shared.a", false}, {"other", "other.a", true}, {"acme.eu", "acme.eu.x", true},
	} {
		if got := a.allowed(c.tenant, c.topic); got != c.ok {
			t.Errorf("allowed(%s, %s) = %v", c.tenant, c.topic, got)
		}
		tk, _ := newTickets([]byte("s"), 0, 0, time.Now)
		var tag [8]byte
		copy(tag[:], tk.tenantTag(c.tenant))
		if got, ok := a.tenantFor(c.topic, tag, tk); ok != c.ok || ok && got != c.tenant {
			t.Errorf("tenantFor(%s) with %s's tag = %q, %v", c.topic, c.tenant, got, ok)
		}
	}
	if _, err := newAccess(map[string][]string{"acme": {""}}); err == nil {
		t.Error("empty pattern accepted")
	}
}

// TestLeeway tolerates clock skew on exp and nbf only when configured.
func TestLeeway(t *testing.T) {
	now := time.Now()
	expired := token(t, testSecret, jwt.MapClaims{"service": "acme", "exp": now.Add(-10 * time.Second).Unix()})
	early := token(t, testSecret, jwt.MapClaims{"service": "acme", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(10 * time.Second).Unix()})
	for _, tc := range []struct {
		leeway time.Duration
		ok     bool
	}{{0, false}, {30 * time.Second, true}, {5 * time.Second, false}} {
		v, err := newVerifier(Auth{HS256Secret: testSecret, Leeway: tc.leeway}, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		for name, tok := range map[string]string{"expired 10s ago": expired, "valid in 10s": early} {
			_, err := v.verify(tok)
			if (err == nil) != tc.ok {
				t.Errorf("leeway %v, token %s: err = %v, want ok %v", tc.leeway, name, err, tc.ok)
			}
		}
	}
}
