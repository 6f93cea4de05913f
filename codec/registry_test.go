package codec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

const (
	pointSchema = `{"type":"record","name":"Point","namespace":"t","fields":[{"name":"x","type":"long"},{"name":"y","type":"long"}]}`
	otherSchema = `{"type":"record","name":"Other","namespace":"t","fields":[{"name":"s","type":"string"}]}`
)

// isSchemaGet reports whether req fetches schema id.
func isSchemaGet(req *http.Request, id int) bool {
	return req.Method == http.MethodGet && req.URL.Path == fmt.Sprintf("/schemas/ids/%d", id)
}

func TestRegistryBasicAuth(t *testing.T) {
	const user, pass = "svc-telebridge", "s3cret-Pa55"
	fake := newFake(t, basicAuth(user, pass))
	seedAvro(fake, "points-value", 1, 1, pointSchema)

	t.Run("right password", func(t *testing.T) {
		reg := newTestRegistry(t, fake.URL(), func(c *RegistryConfig) { c.Username, c.Password = user, pass })
		s, err := reg.Schema(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := schemaName(s); got != "t.Point" {
			t.Fatalf("schema %s, want t.Point", got)
		}
		// The srclient client shares URL and credentials.
		latest, err := reg.Client().GetLatestSchema("points-value")
		if err != nil || latest.ID() != 1 {
			t.Fatalf("srclient: %v, %v", latest, err)
		}
	})

	t.Run("credentials in URL", func(t *testing.T) {
		u := strings.Replace(fake.URL(), "http://", "http://"+user+":"+pass+"@", 1)
		reg := newTestRegistry(t, u, nil)
		if strings.Contains(reg.URL(), pass) {
			t.Fatalf("URL() leaks the password: %s", reg.URL())
		}
		if _, err := reg.Schema(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
	})

	for _, tt := range []struct {
		name, user, pass, want string
	}{
		{"wrong password", user, "Wr0ng-Secret", `authentication failed for schema id 1 (HTTP 403 Forbidden): check the password for registry user "svc-telebridge"`},
		{"no credentials", "", "", "authentication failed for schema id 1 (HTTP 401 Unauthorized): no credentials are configured"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			var reported []string
			reg := newTestRegistry(t, fake.URL(), func(c *RegistryConfig) {
				c.Username, c.Password = tt.user, tt.pass
				c.OnRetry = func(id, attempt int, err error) {
					mu.Lock()
					reported = append(reported, err.Error())
					mu.Unlock()
					if attempt == 2 {
						cancel() // an auth failure is an outage: retried until the caller stops
					}
				}
			})
			_, err := reg.Schema(ctx, 1)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if _, poison := ClassOf(err); poison {
				t.Fatalf("auth failure classified as poison: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, msg := range append(reported, err.Error()) {
				if !strings.Contains(msg, tt.want) {
					t.Errorf("error %q does not contain %q", msg, tt.want)
				}
				if strings.Contains(msg, "Wr0ng-Secret") || strings.Contains(msg, pass) {
					t.Errorf("error leaks a password: %q", msg)
				}
			}
		})
	}
}

func TestRegistryOutageThenRecovery(t *testing.T) {
	failures := []struct {
		name, want string
		fail       func(w http.ResponseWriter)
	}{
		{"503 with Confluent body", `HTTP 503 Service Unavailable for schema id 7; error_code 50003; "backend unavailable"`, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error_code":50003,"message":"backend unavailable"}`)
		}},
		{"502 from a proxy", `HTTP 502 Bad Gateway for schema id 7; "<html>bad gateway</html>"`, func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>")
		}},
		{"connection dropped", "get schema id 7 from schema registry", func(w http.ResponseWriter) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{"bare 404 (wrong URL or proxy)", "without a Confluent error body (check the registry URL)", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "404 page not found")
		}},
		{"garbage 200", "schema registry answer for schema id 7 is not the expected JSON", func(w http.ResponseWriter) {
			io.WriteString(w, "not json")
		}},
	}
	for _, tt := range failures {
		fail := tt.fail
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			seedAvro(fake, "points-value", 1, 7, pointSchema)
			var down atomic.Bool
			down.Store(true)
			fake.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
				if down.Load() {
					fail(w)
					return true
				}
				return false
			})
			var retries atomic.Int32
			reg := newTestRegistry(t, fake.URL(), func(c *RegistryConfig) {
				c.OnRetry = func(id, attempt int, err error) {
					if id != 7 || attempt != int(retries.Add(1)) || !strings.Contains(err.Error(), tt.want) {
						t.Errorf("OnRetry(%d, %d, %v): want id 7, attempt %d, error containing %q", id, attempt, err, retries.Load(), tt.want)
					}
					if attempt == 3 {
						down.Store(false) // the registry comes back
					}
				}
			})
			dec := NewAvroDecoder(reg, nil)
			v, id, err := dec.Decode(context.Background(), AppendWire(nil, 7, []byte{2, 4}))
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]any{"x": int64(1), "y": int64(2)}; id != 7 || fmt.Sprint(v) != fmt.Sprint(want) {
				t.Fatalf("got %v (id %d), want %v", v, id, want)
			}
			st := reg.Stats()
			if st.Fetches != 4 || st.Errors != 3 || st.Misses != 1 || retries.Load() != 3 {
				t.Fatalf("stats %+v, retries %d; want 4 fetches, 3 errors, 1 miss, 3 retries", st, retries.Load())
			}
			// Cached from now on, even while the registry is down again.
			down.Store(true)
			if _, _, err := dec.Decode(context.Background(), AppendWire(nil, 7, []byte{2, 4})); err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Schema(context.Background(), 7); err != nil {
				t.Fatal(err)
			}
			if st := reg.Stats(); st.Hits != 1 || st.Fetches != 4 {
				t.Fatalf("stats %+v; want a cache hit and no new fetch", st)
			}
		})
	}
}

func TestRegistryNotFound(t *testing.T) {
	fake := newFake(t)
	var gets atomic.Int32
	fake.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
		if isSchemaGet(req, 99) {
			gets.Add(1)
		}
		return false // srfake answers 404 / 40403
	})
	reg := newTestRegistry(t, fake.URL(), func(c *RegistryConfig) { c.NotFoundAttempts = 4 })
	_, id, err := NewAvroDecoder(reg, nil).Decode(context.Background(), AppendWire(nil, 99, nil))
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassUnknownSchema || e.SchemaID != 99 || id != 99 {
		t.Fatalf("err = %v (id %d), want ClassUnknownSchema for id 99", err, id)
	}
	if gets.Load() != 4 {
		t.Fatalf("%d look-ups, want NotFoundAttempts = 4", gets.Load())
	}
	if !strings.Contains(err.Error(), "answered 4 times that it has no schema id 99") || !strings.Contains(err.Error(), "error_code 40403") {
		t.Fatalf("unhelpful error: %v", err)
	}
	// Not cached: the id may be registered later.
	seedAvro(fake, "late-value", 1, 99, pointSchema)
	if _, err := reg.Schema(context.Background(), 99); err != nil {
		t.Fatalf("after registration: %v", err)
	}
}

func TestRegistryCancelDuringOutage(t *testing.T) {
	t.Run("while backing off", func(t *testing.T) {
		fake := newFake(t)
		fake.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		reg := newTestRegistry(t, fake.URL(), func(c *RegistryConfig) {
			c.InitialBackoff, c.MaxBackoff = time.Hour, time.Hour // only cancellation can end the wait
			c.OnRetry = func(int, int, error) { cancel() }
		})
		_, err := reg.Schema(ctx, 1)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "HTTP 500") {
			t.Fatalf("err = %v, want context.Canceled with the last failure", err)
		}
		if _, poison := ClassOf(err); poison {
			t.Fatal("cancellation classified as poison")
		}
	})

	t.Run("while a request hangs", func(t *testing.T) {
		fake := newFake(t)
		entered := make(chan struct{})
		abandoned := make(chan struct{})
		fake.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
			close(entered)
			<-req.Context().Done() // the client gave up on this request
			close(abandoned)
			return true
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-entered
			cancel()
		}()
		reg := newTestRegistry(t, fake.URL(), nil)
		_, err := reg.Schema(ctx, 1)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		<-abandoned // the shared fetch was cancelled with its last waiter
	})

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		reg := newTestRegistry(t, "http://127.0.0.1:1", nil)
		if _, err := reg.Schema(ctx, 1); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestRegistryConcurrentMisses checks that misses for one id share a single
// fetch while another id is fetched in parallel.
func TestRegistryConcurrentMisses(t *testing.T) {
	fake := newFake(t)
	seedAvro(fake, "points-value", 1, 1, pointSchema)
	seedAvro(fake, "other-value", 1, 2, otherSchema)
	release := make(chan struct{})
	var gets1 atomic.Int32
	fake.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
		if isSchemaGet(req, 1) {
			gets1.Add(1)
			<-release // id 1 hangs until the test lets it go
		}
		return false
	})
	reg := newTestRegistry(t, fake.URL(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const callers = 8
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			s, err := reg.Schema(ctx, 1)
			if err == nil && schemaName(s) != "t.Point" {
				err = fmt.Errorf("got schema %s", schemaName(s))
			}
			errs <- err
		})
	}
	waitUntil(ctx, t, "all callers to wait on one fetch", func() bool {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		f := reg.flights[1]
		return f != nil && f.waiters == callers
	})

	// Id 2 is answered while id 1 is still hanging.
	s, err := reg.Schema(ctx, 2)
	if err != nil || schemaName(s) != "t.Other" {
		t.Fatalf("id 2 while id 1 hangs: %v, %v", s, err)
	}

	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if gets1.Load() != 1 {
		t.Fatalf("%d fetches for id 1, want 1 shared fetch", gets1.Load())
	}
	if st := reg.Stats(); st.Fetches != 2 || st.Misses != callers+1 {
		t.Fatalf("stats %+v, want 2 fetches and %d misses", st, callers+1)
	}
}

// TestRegistryWaiterLeavesOthersStay checks that a caller that gives up
// does not fail other callers waiting on the same fetch.
func TestRegistryWaiterLeavesOthersStay(t *testing.T) {
	fake := newFake(t)
	seedAvro(fake, "points-value", 1, 1, pointSchema)
	release := make(chan struct{})
	fake.Intercept(func(w http.ResponseWriter, req *http.Request) bool {
		if isSchemaGet(req, 1) {
			<-release
		}
		return false
	})
	reg := newTestRegistry(t, fake.URL(), nil)
	stay := context.Background()
	leave, cancel := context.WithCancel(context.Background())

	done := make(chan error, 1)
	go func() {
		_, err := reg.Schema(stay, 1)
		done <- err
	}()
	left := make(chan error, 1)
	go func() {
		_, err := reg.Schema(leave, 1)
		left <- err
	}()
	waitUntil(context.Background(), t, "two waiters", func() bool {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		return reg.flights[1] != nil && reg.flights[1].waiters == 2
	})
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("leaving caller: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("staying caller: %v", err)
	}
}

func TestRegistryUnsupportedSchema(t *testing.T) {
	fake := newFake(t)
	fake.SeedSchema("json-value", 1, 1, sr.Schema{Schema: `{"type":"object"}`, Type: sr.TypeJSON})
	seedAvro(fake, "bad-value", 1, 2, `{"type":"record","name":"R","fields":[{"name":"a","type":"nope"}]}`)
	seedAvro(fake, "empty-value", 1, 3, `""`)
	reg := newTestRegistry(t, fake.URL(), nil)
	for _, tt := range []struct {
		id   int
		want string
	}{
		{1, "registry schema id 1 is of type JSON, not AVRO"},
		{2, "registry schema id 2 does not parse as Avro"},
		{3, "registry schema id 3 does not parse as Avro"},
	} {
		_, err := reg.Schema(context.Background(), tt.id)
		var e *Error
		if !errors.As(err, &e) || e.Class != ClassUnsupportedSchema || e.SchemaID != tt.id || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("id %d: err = %v, want ClassUnsupportedSchema containing %q", tt.id, err, tt.want)
		}
	}
	if st := reg.Stats(); st.Fetches != 3 {
		t.Fatalf("stats %+v: unsupported schemas must not be retried", st)
	}
}

func TestRegistryReferences(t *testing.T) {
	fake := newFake(t)
	seedAvro(fake, "point", 1, 1, pointSchema)
	fake.SeedSchema("track-value", 1, 2, sr.Schema{
		Schema:     `{"type":"record","name":"Track","namespace":"t","fields":[{"name":"from","type":"t.Point"},{"name":"to","type":"t.Point"}]}`,
		References: []sr.SchemaReference{{Name: "t.Point", Subject: "point", Version: 1}},
	})
	reg := newTestRegistry(t, fake.URL(), nil)
	v, _, err := NewAvroDecoder(reg, nil).Decode(context.Background(), AppendWire(nil, 2, []byte{2, 4, 6, 8}))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); got != "map[from:map[x:1 y:2] to:map[x:3 y:4]]" {
		t.Fatalf("got %s", got)
	}
}

func TestNewRegistry(t *testing.T) {
	tests := []struct {
		url, wantURL, wantErr string
	}{
		{url: "", wantErr: "must be an absolute http"},
		{url: "localhost:8081", wantErr: "must be an absolute http"},
		{url: "ftp://registry", wantErr: "must be an absolute http"},
		{url: "http://user:Pa55word@[::1", wantErr: "invalid"},
		{url: "https://user:Pa55word@sr.example.com:8081/base/", wantURL: "https://sr.example.com:8081/base"},
		{url: " http://sr:8081 ", wantURL: "http://sr:8081"},
	}
	for _, tt := range tests {
		reg, err := NewRegistry(RegistryConfig{URL: tt.url})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "Pa55word") {
				t.Errorf("NewRegistry(%q) err = %v, want %q without the password", tt.url, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("NewRegistry(%q): %v", tt.url, err)
		}
		if reg.URL() != tt.wantURL || reg.Client().GetSchemaRegistryURL() != tt.wantURL {
			t.Errorf("URL() = %q, want %q", reg.URL(), tt.wantURL)
		}
	}
	reg, _ := NewRegistry(RegistryConfig{URL: "https://u:p@sr"})
	if reg.user != "u" || reg.pass != "p" || reg.cfg.Password != "" {
		t.Errorf("credentials from the URL were not taken over: %q", reg.user)
	}
	if c := reg.cfg; c.Timeout != DefaultRegistryTimeout || c.NotFoundAttempts != DefaultNotFoundAttempts ||
		c.InitialBackoff != DefaultInitialBackoff || c.MaxBackoff != DefaultMaxBackoff {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{1, 2, time.Millisecond, 30 * time.Second} {
		for range 100 {
			if j := jitter(d); j < d/2 || j > d {
				t.Fatalf("jitter(%v) = %v, outside [d/2, d]", d, j)
			}
		}
	}
}
