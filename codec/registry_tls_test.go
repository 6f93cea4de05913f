package codec

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistryPrivateCA reaches an https registry whose certificate is
// signed by a CA outside the system roots: refused by default (the retry
// error names the certificate problem), read with CAFile, and a CA file
// without a certificate is refused at construction.
func TestRegistryPrivateCA(t *testing.T) {
	fake := newFake(t)
	seedAvro(fake, "points-value", 1, 1, pointSchema)
	ts := httptest.NewUnstartedServer(fake.Handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("system roots refuse", func(t *testing.T) {
		retried := make(chan error, 1)
		reg := newTestRegistry(t, ts.URL, func(c *RegistryConfig) {
			c.OnRetry = func(_, _ int, err error) {
				select {
				case retried <- err:
				default:
				}
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-retried; cancel() }()
		_, err := reg.Schema(ctx, 1)
		if err == nil {
			t.Fatal("untrusted certificate accepted")
		}
		if got := reg.Stats().Errors; got == 0 {
			t.Fatalf("no failed attempt counted: %v", err)
		}
	})

	t.Run("ca_file", func(t *testing.T) {
		reg := newTestRegistry(t, ts.URL, func(c *RegistryConfig) { c.CAFile = caFile })
		if _, err := reg.Schema(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("bad ca_file", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.pem")
		if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := NewRegistry(RegistryConfig{URL: ts.URL, CAFile: bad})
		if err == nil || !strings.Contains(err.Error(), "no PEM certificate") || !strings.Contains(err.Error(), bad) {
			t.Fatalf("err = %v", err)
		}
		_, err = NewRegistry(RegistryConfig{URL: ts.URL, CAFile: filepath.Join(dir, "missing.pem")})
		if err == nil || !strings.Contains(err.Error(), "missing.pem") {
			t.Fatalf("missing file: err = %v", err)
		}
	})
}
