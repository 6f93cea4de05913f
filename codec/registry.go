package codec

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/riferrei/srclient"
)

// Registry defaults, applied by NewRegistry to zero fields of RegistryConfig.
const (
	DefaultRegistryTimeout  = 10 * time.Second
	DefaultNotFoundAttempts = 3
	DefaultInitialBackoff   = 200 * time.Millisecond
	DefaultMaxBackoff       = 30 * time.Second
)

const (
	maxRegistryBody = 16 << 20 // largest registry response we read
	maxRefDepth     = 32       // deepest chain of schema references we follow
)

// RegistryConfig configures a Registry. Zero values take the defaults above.
type RegistryConfig struct {
	// URL is the Schema Registry base URL, e.g. https://sr.example.com:8081.
	// Credentials embedded in the URL are used when Username is empty and are
	// stripped from the URL either way.
	URL string
	// Username and Password enable HTTP basic auth when Username is set. The
	// password never appears in errors or OnRetry reports.
	Username, Password string
	// Timeout bounds each HTTP request (default 10s).
	Timeout time.Duration
	// NotFoundAttempts is how many "schema not found" answers for one id are
	// needed before Schema gives up with ClassUnknownSchema (default 3).
	NotFoundAttempts int
	// InitialBackoff and MaxBackoff bound the exponential, jittered pause
	// between attempts (defaults 200ms and 30s).
	InitialBackoff, MaxBackoff time.Duration
	// CAFile is a PEM bundle trusted instead of the system roots for an
	// https URL. InsecureSkipVerify turns certificate verification off
	// (testing only).
	CAFile             string
	InsecureSkipVerify bool
	// OnRetry, if set, is called before every pause with the schema id, the
	// 1-based number of the attempt that failed and its error. It runs on the
	// fetching goroutine, so it must be quick and safe for concurrent use.
	OnRetry func(id int, attempt int, err error)
}

// RegistryStats are cumulative counters of a Registry.
type RegistryStats struct {
	// Hits counts Schema calls answered from the cache.
	Hits uint64
	// Misses counts Schema calls that had to wait for a fetch (shared or not).
	Misses uint64
	// Fetches counts HTTP attempts to load a schema by id.
	Fetches uint64
	// Errors counts failed attempts, including "not found" answers.
	Errors uint64
}

// Registry resolves Confluent schema ids to parsed Avro schemas.
//
// Schemas are cached by id forever, since a registry never changes the schema
// behind an id; cached look-ups take no lock. Concurrent misses for one id
// share a single fetch; misses for different ids are fetched in parallel.
//
// The GET /schemas/ids/{id} look-up is done with net/http directly rather
// than through srclient, because srclient takes no context (so an outage
// could not be abandoned on shutdown) and reports HTTP failures as strings
// that do not reliably carry the status code. srclient is still configured
// with the same URL, credentials and HTTP client and is available through
// Client for subject and compatibility look-ups.
//
// A shared fetch runs on its own goroutine so that one caller giving up does
// not fail the others; it is cancelled as soon as its last waiter returns, so
// no goroutine outlives the callers' contexts.
//
// A Registry is safe for concurrent use.
type Registry struct {
	base   string // no trailing slash, no user info
	user   string
	pass   string
	cfg    RegistryConfig
	httpc  *http.Client
	client *srclient.SchemaRegistryClient

	cache sync.Map // int -> avro.Schema

	mu      sync.Mutex
	flights map[int]*flight

	hits, misses, fetches, errs atomic.Uint64
}

// flight is one in-progress fetch shared by every caller waiting for its id.
type flight struct {
	done    chan struct{}
	cancel  context.CancelFunc
	waiters int   // guarded by Registry.mu
	lastErr error // guarded by Registry.mu
	schema  avro.Schema
	err     error
}

// NewRegistry validates cfg and returns a Registry. It does not contact the
// registry. It fails if the URL is not an absolute http or https URL.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, which may hold a password
		}
		return nil, fmt.Errorf("codec: schema registry URL is invalid: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("codec: schema registry URL %q must be an absolute http:// or https:// URL", u.Redacted())
	}
	if u.User != nil {
		if cfg.Username == "" {
			cfg.Username = u.User.Username()
			cfg.Password, _ = u.User.Password()
		}
		u.User = nil
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRegistryTimeout
	}
	if cfg.NotFoundAttempts <= 0 {
		cfg.NotFoundAttempts = DefaultNotFoundAttempts
	}
	if cfg.InitialBackoff <= 0 {
		cfg.InitialBackoff = DefaultInitialBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.InitialBackoff {
		cfg.MaxBackoff = cfg.InitialBackoff
	}
	base := strings.TrimRight(u.String(), "/")
	tc, err := RegistryTLS(cfg.CAFile, cfg.InsecureSkipVerify)
	if err != nil {
		return nil, fmt.Errorf("codec: schema registry %s: %w", u.Redacted(), err)
	}
	httpc := &http.Client{Timeout: cfg.Timeout}
	if tc != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		httpc.Transport = tr
	}

	client := srclient.NewSchemaRegistryClient(base, srclient.WithClient(httpc))
	client.SetCredentials(cfg.Username, cfg.Password)
	client.CodecCreationEnabled(false)

	r := &Registry{
		base:    base,
		user:    cfg.Username,
		pass:    cfg.Password,
		cfg:     cfg,
		httpc:   httpc,
		client:  client,
		flights: make(map[int]*flight),
	}
	r.cfg.Password = "" // keep the secret in one field only
	return r, nil
}

// Client returns the srclient client configured with the same URL,
// credentials and HTTP client, for subject and compatibility look-ups. Its
// methods take no context; they are bounded by the configured Timeout.
func (r *Registry) Client() *srclient.SchemaRegistryClient { return r.client }

// URL returns the registry base URL without credentials.
func (r *Registry) URL() string { return r.base }

// Stats returns a snapshot of the counters.
func (r *Registry) Stats() RegistryStats {
	return RegistryStats{
		Hits:    r.hits.Load(),
		Misses:  r.misses.Load(),
		Fetches: r.fetches.Load(),
		Errors:  r.errs.Load(),
	}
}

// Schema returns the Avro schema registered under id.
//
// A cached schema is returned immediately. Otherwise Schema fetches it,
// retrying until ctx is done:
//   - network errors, timeouts, 5xx, 429 and any other unexpected answer are
//     treated as an outage and retried with exponential backoff and jitter,
//     forever;
//   - 401 and 403 are retried the same way, with an error that says
//     authentication failed;
//   - a Confluent "not found" answer (HTTP 404 with a 404xx error code, e.g.
//     40403) is retried until NotFoundAttempts such answers, then Schema
//     returns an *Error of ClassUnknownSchema. A 404 without a Confluent
//     error body (a wrong URL or a proxy) counts as an outage instead, so a
//     misconfiguration never dead-letters a whole topic;
//   - a schema that is not Avro or cannot be parsed fails at once with an
//     *Error of ClassUnsupportedSchema.
//
// When ctx is done first, Schema returns an error wrapping ctx.Err() (and
// describing the last failure), which callers must treat as "stop", not as
// poison input. Failures are not cached: the next call tries again.
func (r *Registry) Schema(ctx context.Context, id int) (avro.Schema, error) {
	if v, ok := r.cache.Load(id); ok {
		r.hits.Add(1)
		return v.(avro.Schema), nil
	}
	r.misses.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("codec: fetch schema id %d: %w", id, err)
	}

	r.mu.Lock()
	f := r.flights[id]
	if f == nil {
		// The fetch outlives no waiter: it is cancelled when the last one
		// leaves, and it ends by itself when it has an answer.
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		r.flights[id] = f
		go r.run(fctx, id, f)
	}
	f.waiters++
	r.mu.Unlock()

	select {
	case <-f.done:
		return f.schema, f.err
	case <-ctx.Done():
		r.mu.Lock()
		last := f.lastErr
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			if r.flights[id] == f {
				delete(r.flights, id)
			}
		}
		r.mu.Unlock()
		if last != nil {
			return nil, fmt.Errorf("codec: fetch schema id %d: %w (last error: %v)", id, ctx.Err(), last)
		}
		return nil, fmt.Errorf("codec: fetch schema id %d: %w", id, ctx.Err())
	}
}

func (r *Registry) run(ctx context.Context, id int, f *flight) {
	defer f.cancel()
	s, err := r.fetch(ctx, id, f)
	if err == nil {
		r.cache.Store(id, s)
	}
	r.mu.Lock()
	if r.flights[id] == f {
		delete(r.flights, id)
	}
	f.schema, f.err = s, err
	r.mu.Unlock()
	close(f.done)
}

// fetch retries fetchOnce according to the rules documented on Schema.
func (r *Registry) fetch(ctx context.Context, id int, f *flight) (avro.Schema, error) {
	backoff := r.cfg.InitialBackoff
	notFound := 0
	for attempt := 1; ; attempt++ {
		r.fetches.Add(1)
		s, err := r.fetchOnce(ctx, id)
		if err == nil {
			return s, nil
		}
		r.errs.Add(1)
		if _, ok := ClassOf(err); ok {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("codec: fetch schema id %d: %w", id, ctx.Err())
		}
		if isNotFound(err) {
			notFound++
			if notFound >= r.cfg.NotFoundAttempts {
				return nil, &Error{Class: ClassUnknownSchema, SchemaID: id,
					Err: fmt.Errorf("registry %s answered %d times that it has no schema id %d: %w", r.base, notFound, id, err)}
			}
		}
		r.mu.Lock()
		f.lastErr = err
		r.mu.Unlock()
		if r.cfg.OnRetry != nil {
			r.cfg.OnRetry(id, attempt, err)
		}
		t := time.NewTimer(jitter(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("codec: fetch schema id %d: %w", id, ctx.Err())
		case <-t.C:
		}
		if backoff > r.cfg.MaxBackoff/2 {
			backoff = r.cfg.MaxBackoff // also avoids overflowing
		} else {
			backoff *= 2
		}
	}
}

// jitter returns a random duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	half := d / 2
	return half + rand.N(d-half+1)
}

// statusError is a non-2xx registry answer.
type statusError struct {
	status  int    // HTTP status
	code    int    // Confluent error_code, 0 if the body had none
	message string // Confluent message or a body excerpt, password scrubbed
	what    string // what was requested, e.g. "schema id 7"
	auth    string // extra advice for 401/403
}

func (e *statusError) Error() string {
	var b strings.Builder
	if e.status == http.StatusUnauthorized || e.status == http.StatusForbidden {
		fmt.Fprintf(&b, "schema registry authentication failed for %s (HTTP %d %s): %s", e.what, e.status, http.StatusText(e.status), e.auth)
	} else {
		fmt.Fprintf(&b, "schema registry answered HTTP %d %s for %s", e.status, http.StatusText(e.status), e.what)
		if e.status == http.StatusNotFound && e.code == 0 {
			b.WriteString(" without a Confluent error body (check the registry URL)")
		}
	}
	if e.code != 0 {
		fmt.Fprintf(&b, "; error_code %d", e.code)
	}
	if e.message != "" {
		fmt.Fprintf(&b, "; %q", e.message)
	}
	return b.String()
}

func isNotFound(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.status == http.StatusNotFound && se.code/100 == 404
}

// get performs one GET of path and decodes a 2xx JSON answer into out.
func (r *Registry) get(ctx context.Context, path, what string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	if err != nil {
		return fmt.Errorf("build request for %s: %w", what, err)
	}
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pass)
	}
	resp, err := r.httpc.Do(req)
	if err != nil {
		return fmt.Errorf("get %s from schema registry: %w", what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRegistryBody+1))
	if err != nil {
		return fmt.Errorf("read schema registry answer for %s: %w", what, err)
	}
	if len(body) > maxRegistryBody {
		return fmt.Errorf("schema registry answer for %s exceeds %d bytes", what, maxRegistryBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r.statusError(resp.StatusCode, body, what)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("schema registry answer for %s is not the expected JSON: %w", what, err)
	}
	return nil
}

func (r *Registry) statusError(status int, body []byte, what string) error {
	e := &statusError{status: status, what: what}
	var cb struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &cb) == nil && (cb.Code != 0 || cb.Message != "") {
		e.code, e.message = cb.Code, cb.Message
	} else {
		e.message = strings.TrimSpace(string(body))
	}
	if len(e.message) > 200 {
		e.message = e.message[:200] + "..."
	}
	if r.pass != "" {
		e.message = strings.ReplaceAll(e.message, r.pass, "****")
	}
	switch {
	case r.user == "":
		e.auth = "no credentials are configured; set the registry username and password"
	default:
		e.auth = fmt.Sprintf("check the password for registry user %q", r.user)
	}
	return e
}

type schemaReference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

type schemaAnswer struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []schemaReference `json:"references"`
}

// fetchOnce performs one attempt: the schema, then its references, then
// parsing. Parse failures and non-Avro schemas are returned as *Error.
func (r *Registry) fetchOnce(ctx context.Context, id int) (avro.Schema, error) {
	what := "schema id " + strconv.Itoa(id)
	var ans schemaAnswer
	if err := r.get(ctx, "/schemas/ids/"+strconv.Itoa(id), what, &ans); err != nil {
		return nil, err
	}
	if t := ans.SchemaType; t != "" && !strings.EqualFold(t, "AVRO") {
		return nil, newError(ClassUnsupportedSchema, id, "registry schema id %d is of type %s, not AVRO", id, t)
	}
	cache := &avro.SchemaCache{}
	seen := make(map[string]bool)
	if err := r.loadReferences(ctx, id, ans.References, cache, seen, 0); err != nil {
		return nil, err
	}
	s, err := parseSchema(ans.Schema, cache)
	if err != nil {
		return nil, &Error{Class: ClassUnsupportedSchema, SchemaID: id,
			Err: fmt.Errorf("registry schema id %d does not parse as Avro: %w", id, err)}
	}
	return s, nil
}

// loadReferences fetches referenced schemas depth-first and parses them into
// cache so that the referencing schema can name their types.
func (r *Registry) loadReferences(ctx context.Context, id int, refs []schemaReference, cache *avro.SchemaCache, seen map[string]bool, depth int) error {
	if len(refs) > 0 && depth >= maxRefDepth {
		return newError(ClassUnsupportedSchema, id, "schema id %d has references nested deeper than %d", id, maxRefDepth)
	}
	for _, ref := range refs {
		key := ref.Subject + "\x00" + strconv.Itoa(ref.Version)
		if seen[key] {
			continue
		}
		seen[key] = true
		what := fmt.Sprintf("subject %q version %d (referenced by schema id %d)", ref.Subject, ref.Version, id)
		var ans schemaAnswer
		path := "/subjects/" + url.PathEscape(ref.Subject) + "/versions/" + strconv.Itoa(ref.Version)
		if err := r.get(ctx, path, what, &ans); err != nil {
			return err
		}
		if t := ans.SchemaType; t != "" && !strings.EqualFold(t, "AVRO") {
			return newError(ClassUnsupportedSchema, id, "%s is of type %s, not AVRO", what, t)
		}
		if err := r.loadReferences(ctx, id, ans.References, cache, seen, depth+1); err != nil {
			return err
		}
		if _, err := parseSchema(ans.Schema, cache); err != nil {
			return newError(ClassUnsupportedSchema, id, "%s does not parse as Avro: %w", what, err)
		}
	}
	return nil
}

// ParseSchema parses an Avro schema document, for example a pinned reader
// schema. Unlike avro.Parse it does not touch hamba's package-level schema
// cache, so schemas that reuse a type name do not interfere.
func ParseSchema(text string) (avro.Schema, error) {
	s, err := parseSchema(text, &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("codec: parse Avro schema: %w", err)
	}
	return s, nil
}

func parseSchema(text string, cache *avro.SchemaCache) (avro.Schema, error) {
	if strings.TrimSpace(text) == "" {
		return nil, errors.New("empty schema")
	}
	return avro.ParseWithCache(text, "", cache)
}

// RegistryTLS returns the TLS client settings for a registry reached over
// https: nil (system roots, verification on) when caFile is empty and
// insecure is false. caFile is a PEM bundle trusted instead of the system
// roots; an unreadable file or one without a certificate is an error that
// names the file.
func RegistryTLS(caFile string, insecure bool) (*tls.Config, error) {
	if caFile == "" && !insecure {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // only when configured
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
