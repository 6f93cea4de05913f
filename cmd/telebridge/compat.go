package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/compat"
)

// Exit codes of the compat commands. A schema deleted since the git ref
// (without --allow-deleted) exits like an incompatible one: its consumers
// break.
const (
	compatExitIncompatible = 1
	compatExitUsage        = 2
)

func compatUsage(format string, args ...any) error {
	return &exitError{code: compatExitUsage, err: fmt.Errorf(format, args...)}
}

func newCompatCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compat",
		Short: "Check Avro schema compatibility (files, a registry subject, a git ref, a bridge config)",
		Long: `compat checks Avro schema changes with the Avro specification's resolution
rules and Confluent Schema Registry's compatibility levels, reporting every
incompatibility with its type, its location (a JSON pointer and a line and
column in the file) and a sentence.

Exit codes: 0 compatible, 1 incompatible (or, in git mode, a schema deleted
since the ref, unless --allow-deleted), 2 usage, parse, git or network error.`,
	}
	cmd.AddCommand(newCompatCheckCmd(), newCompatVerifyCmd())
	return cmd
}

type compatCheckFlags struct {
	level, format, registry, subject, username, password, againstGit, caFile string
	references                                                               []string
	timeout                                                                  time.Duration
	allowDeleted                                                             bool
}

func newCompatCheckCmd() *cobra.Command {
	f := &compatCheckFlags{}
	cmd := &cobra.Command{
		Use:   "check [--level LEVEL] OLD.avsc... NEW.avsc | --registry URL --subject S NEW.avsc | --against-git REF [--allow-deleted] [FILE|DIR...]",
		Short: "Check a new schema against its history: local files, a registry subject or a git ref",
		Long: `check compares a candidate Avro schema with earlier versions.

Local mode:    telebridge compat check --level BACKWARD v1.avsc v2.avsc new.avsc
               (history oldest first, the last file is the candidate; no network)
Registry mode: telebridge compat check --registry URL --subject S new.avsc
               (versions of the subject from a Confluent-compatible registry; the
               level is the subject's, else the global one, unless --level is set;
               basic auth from --username/--password or TELEBRIDGE_REGISTRY_USERNAME
               and TELEBRIDGE_REGISTRY_PASSWORD)
Git mode:      telebridge compat check --against-git origin/main schemas/
               (every .avsc file under the given files and folders, default ".",
               against the same path at the ref; a file new at the ref is reported
               as new; a .avsc file that exists at the ref under the given paths
               but not in the working tree is reported as deleted and fails the
               check (exit 1) unless --allow-deleted is given)

Schemas that use named types defined elsewhere (Confluent schema references)
take those definitions with --reference FILE (repeatable, dependencies first);
registered versions with references are resolved from the registry.

Levels: BACKWARD (default in local and git mode), BACKWARD_TRANSITIVE, FORWARD,
FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE, NONE. Backward means the candidate
reads data written with the existing versions; forward, the reverse.`,
		RunE: func(cmd *cobra.Command, args []string) error { return runCompatCheck(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.level, "level", "", "compatibility level (default: BACKWARD; in registry mode the subject's or global level)")
	fl.StringVar(&f.format, "format", "text", "output format: text, json, junit or sarif")
	fl.StringVar(&f.registry, "registry", "", "schema registry base URL (registry mode)")
	fl.StringVar(&f.subject, "subject", "", "registry subject, e.g. my-topic-value (registry mode)")
	fl.StringVar(&f.username, "username", "", "registry basic-auth user (default $TELEBRIDGE_REGISTRY_USERNAME)")
	fl.StringVar(&f.password, "password", "", "registry basic-auth password (default $TELEBRIDGE_REGISTRY_PASSWORD; prefer the variable)")
	fl.StringArrayVar(&f.references, "reference", nil, "schema file defining named types the checked schemas use by name (like Confluent schema references); repeat it, dependencies first")
	fl.StringVar(&f.caFile, "ca-file", "", "PEM CA bundle to verify an https registry with, instead of the system roots")
	fl.StringVar(&f.againstGit, "against-git", "", "git ref to compare the working tree's .avsc files with, e.g. origin/main (git mode)")
	fl.BoolVar(&f.allowDeleted, "allow-deleted", false, "git mode: report .avsc files deleted since the ref without failing (exit 0 if nothing else fails)")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "overall time limit for registry and git calls")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: compatExitUsage, err: err} })
	return cmd
}

func runCompatCheck(cmd *cobra.Command, f *compatCheckFlags, args []string) error {
	if !slices.Contains(compat.Formats(), f.format) {
		return compatUsage("unknown --format %q (allowed: %s)", f.format, strings.Join(compat.Formats(), ", "))
	}
	var level compat.Level
	if f.level != "" {
		l, err := compat.ParseLevel(f.level)
		if err != nil {
			return &exitError{code: compatExitUsage, err: fmt.Errorf("--level: %w", err)}
		}
		level = l
	}
	imports, err := loadReferences(f.references)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()

	var targets []compat.Target
	switch {
	case f.registry != "" && f.againstGit != "":
		return compatUsage("--registry and --against-git cannot be combined")
	case f.allowDeleted && f.againstGit == "":
		return compatUsage("--allow-deleted needs --against-git")
	case f.registry != "":
		if f.subject == "" {
			return compatUsage("registry mode needs --subject")
		}
		if len(args) != 1 {
			return compatUsage("registry mode takes exactly one schema file (the candidate), got %d", len(args))
		}
		rc, rerr := newSRReader(f.registry, srOptions{
			user:   cmp.Or(f.username, os.Getenv("TELEBRIDGE_REGISTRY_USERNAME")),
			pass:   cmp.Or(f.password, os.Getenv("TELEBRIDGE_REGISTRY_PASSWORD")),
			caFile: f.caFile,
		})
		if rerr != nil {
			return &exitError{code: compatExitUsage, err: rerr}
		}
		targets, err = compatRegistry(ctx, rc, f.subject, level, args[0], imports)
	case f.againstGit != "":
		if level == "" {
			level = compat.Backward
		}
		if len(args) == 0 {
			args = []string{"."}
		}
		targets, err = compatGit(ctx, f.againstGit, level, args, imports, f.allowDeleted)
	default:
		if f.subject != "" {
			return compatUsage("--subject needs --registry")
		}
		if len(args) < 2 {
			return compatUsage("local mode needs at least two schema files: the history, oldest first, then the candidate")
		}
		if level == "" {
			level = compat.Backward
		}
		targets = []compat.Target{compatLocal(level, args, imports)}
	}
	if err != nil {
		return err
	}
	return finishCompat(cmd.OutOrStdout(), f.format, targets)
}

// finishCompat writes the report and turns the outcome into the exit
// code: 2 when a schema could not be checked, else 1 when one is
// incompatible or deleted (without --allow-deleted), else 0.
func finishCompat(w io.Writer, format string, targets []compat.Target) error {
	if err := compat.Write(w, format, targets); err != nil {
		return &exitError{code: compatExitUsage, err: fmt.Errorf("write report: %w", err)}
	}
	failed, bad, gone := 0, 0, 0
	for i := range targets {
		t := &targets[i]
		switch {
		case t.Status() == "error":
			failed++
		case !t.Failed():
		case t.Deleted:
			gone++
		default:
			bad++
		}
	}
	var why []string
	if bad > 0 {
		why = append(why, fmt.Sprintf("%d schema(s) incompatible", bad))
	}
	if gone > 0 {
		why = append(why, fmt.Sprintf("%d schema(s) deleted since the git ref (pass --allow-deleted if no consumer uses them any more)", gone))
	}
	switch {
	case failed > 0:
		return &exitError{code: compatExitUsage, err: fmt.Errorf("%d schema(s) could not be checked", failed)}
	case len(why) > 0:
		return &exitError{code: compatExitIncompatible, err: errors.New(strings.Join(why, "; "))}
	}
	return nil
}

// loadCandidate reads and parses the candidate file.
func loadCandidate(path string, imports []*compat.Schema) compat.Target {
	t := compat.Target{Name: path, File: filepath.ToSlash(path)}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Err = err
		return t
	}
	s, err := compat.ParseWith(data, compat.ParseOptions{Imports: imports})
	if err != nil {
		t.Err = err
		return t
	}
	t.Candidate = s
	return t
}

// loadReferences parses the --reference files in order, each able to use
// the types of those before it.
func loadReferences(files []string) ([]*compat.Schema, error) {
	var out []*compat.Schema
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("--reference: %w", err)}
		}
		s, err := compat.ParseWith(data, compat.ParseOptions{Imports: out})
		if err != nil {
			return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("--reference %s: %w", f, err)}
		}
		out = append(out, s)
	}
	return out, nil
}

func compatLocal(level compat.Level, files []string, imports []*compat.Schema) compat.Target {
	t := loadCandidate(files[len(files)-1], imports)
	if t.Err != nil {
		return t
	}
	var existing []compat.Version
	for _, p := range files[:len(files)-1] {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Err = err
			return t
		}
		s, err := compat.ParseWith(data, compat.ParseOptions{Imports: imports})
		if err != nil {
			t.Err, t.ErrFile = err, filepath.ToSlash(p)
			return t
		}
		existing = append(existing, compat.Version{Label: p, Schema: s})
	}
	rep, err := compat.CheckLevel(level, t.Candidate, existing)
	if err != nil {
		t.Err = err
		return t
	}
	t.Report = rep
	return t
}

// compatGit checks every .avsc file under paths (files and folders,
// relative to the working directory as git resolves them) against the same
// path at ref. A file that does not exist at ref is reported as new. A
// .avsc file that exists at ref under paths but not in the working tree
// (deleted, or renamed away) is reported as deleted; it fails the run
// unless allowDeleted. A path that exists neither in the working tree nor
// at ref, an unknown ref and git failures are usage errors (exit 2).
func compatGit(ctx context.Context, ref string, level compat.Level, paths []string, imports []*compat.Schema, allowDeleted bool) ([]compat.Target, error) {
	if _, err := runGit(ctx, "rev-parse", "--verify", "--quiet", ref+"^{commit}"); err != nil {
		return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("git ref %q: %w (fetch it first, e.g. git fetch origin; in CI check out with full history)", ref, err)}
	}
	var files []string
	var out []compat.Target
	seen := map[string]bool{} // deleted files already reported
	for _, p := range paths {
		st, statErr := os.Stat(p)
		if statErr != nil && !notExist(statErr) {
			return nil, &exitError{code: compatExitUsage, err: statErr}
		}
		deleted, atRef, err := gitDeletedSchemas(ctx, ref, p)
		if err != nil {
			return nil, &exitError{code: compatExitUsage, err: err}
		}
		for _, name := range deleted {
			if !seen[name] {
				seen[name] = true
				out = append(out, compat.Target{Name: ref + ":" + name, File: name, Deleted: true, DeletionAllowed: allowDeleted})
			}
		}
		if statErr != nil {
			if !atRef {
				// Neither in the working tree nor at the ref: a typo.
				return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("%w (not at %s either)", statErr, ref)}
			}
			continue
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == ".git" {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".avsc") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, &exitError{code: compatExitUsage, err: fmt.Errorf("list %s: %w", p, err)}
		}
	}
	if len(files) == 0 && len(out) == 0 {
		return nil, compatUsage("no .avsc files under %s, in the working tree or at %s", strings.Join(paths, ", "), ref)
	}
	sort.Strings(files)
	for _, file := range files {
		t := loadCandidate(file, imports)
		if t.Err != nil {
			out = append(out, t)
			continue
		}
		// "./" makes the path relative to the working directory, not the
		// repository root.
		spec := ref + ":./" + filepath.ToSlash(filepath.Clean(file))
		if _, err := runGit(ctx, "cat-file", "-e", spec); err != nil {
			t.New = true
			out = append(out, t)
			continue
		}
		old, err := runGit(ctx, "show", spec)
		if err != nil {
			t.Err = err
			out = append(out, t)
			continue
		}
		label := ref + ":" + filepath.ToSlash(file)
		s, err := compat.ParseWith(old, compat.ParseOptions{Imports: imports})
		if err != nil {
			t.Err, t.ErrFile = err, label
			out = append(out, t)
			continue
		}
		t.Report, t.Err = compat.CheckLevel(level, t.Candidate, []compat.Version{{Label: label, Schema: s}})
		out = append(out, t)
	}
	// Deleted files among the others, in path order.
	slices.SortStableFunc(out, func(a, b compat.Target) int { return strings.Compare(a.File, b.File) })
	return out, nil
}

// gitDeletedSchemas lists the files at ref under path (a file or folder,
// relative to the working directory, taken literally) and returns the ones
// missing from the working tree that are .avsc files or path itself, as
// slash paths relative to the working directory (git's "../" included).
// atRef reports whether ref has anything under path.
func gitDeletedSchemas(ctx context.Context, ref, path string) (deleted []string, atRef bool, err error) {
	list, err := runGit(ctx, "--literal-pathspecs", "ls-tree", "-r", "-z", ref, "--", path)
	if err != nil {
		return nil, false, fmt.Errorf("list the files of %s at git ref %s: %w", path, ref, err)
	}
	self := filepath.ToSlash(filepath.Clean(path))
	for entry := range strings.SplitSeq(string(list), "\x00") {
		if entry == "" {
			continue
		}
		// "<mode> SP <type> SP <object> TAB <name>"
		meta, name, ok := strings.Cut(entry, "\t")
		if !ok {
			return nil, false, fmt.Errorf("list the files of %s at git ref %s: unexpected git ls-tree line %q", path, ref, entry)
		}
		atRef = true
		if f := strings.Fields(meta); len(f) != 3 || f[1] != "blob" {
			continue // a submodule
		}
		if !strings.HasSuffix(name, ".avsc") && name != self {
			continue
		}
		if _, err := os.Lstat(filepath.FromSlash(name)); err == nil {
			continue
		} else if !notExist(err) {
			return nil, false, fmt.Errorf("%s (at git ref %s): %w", name, ref, err)
		}
		deleted = append(deleted, name)
	}
	return deleted, atRef, nil
}

// notExist reports whether err from os.Stat or os.Lstat means the file is
// not there, including because a parent is now a file.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// runGit runs git with args and returns its standard output.
func runGit(ctx context.Context, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, "git", args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
		}
		return nil, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

func compatRegistry(ctx context.Context, rc *srReader, subject string, level compat.Level, file string, imports []*compat.Schema) ([]compat.Target, error) {
	t := loadCandidate(file, imports)
	t.Name = file + " (subject " + subject + ")"
	if t.Err != nil {
		return []compat.Target{t}, nil
	}
	if level == "" {
		l, err := rc.level(ctx, subject)
		if err != nil {
			return nil, &exitError{code: compatExitUsage, err: err}
		}
		level = l
	}
	existing, err := rc.versions(ctx, subject, !level.Transitive())
	if err != nil {
		return nil, &exitError{code: compatExitUsage, err: err}
	}
	if len(existing) == 0 {
		t.New = true
		return []compat.Target{t}, nil
	}
	t.Report, t.Err = compat.CheckLevel(level, t.Candidate, existing)
	return []compat.Target{t}, nil
}

// srReader reads subjects, versions and configs from a Confluent
// Schema Registry over its REST API. TLS certificates are verified.
type srReader struct {
	base       string
	user, pass string
	http       *http.Client
}

// srOptions are the connection settings of an srReader.
type srOptions struct {
	user, pass string
	caFile     string        // PEM bundle trusted instead of the system roots
	insecure   bool          // skip certificate verification (testing only)
	timeout    time.Duration // per request (default 30s)
}

func newSRReader(base string, o srOptions) (*srReader, error) {
	if o.timeout <= 0 {
		o.timeout = 30 * time.Second
	}
	tc, err := codec.RegistryTLS(o.caFile, o.insecure)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", base, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &srReader{base: strings.TrimRight(base, "/"), user: o.user, pass: o.pass, http: &http.Client{Timeout: o.timeout, Transport: tr}}, nil
}

type srStatus struct {
	status int
	code   int
	msg    string
}

func (e *srStatus) Error() string {
	return fmt.Sprintf("HTTP %d (error code %d): %s", e.status, e.code, e.msg)
}

// get fetches path into out. A registry error answer comes back as a
// *srStatus; the password never appears in errors.
func (c *srReader) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return fmt.Errorf("registry URL %q: %w", c.base, err)
	}
	req.Header.Set("Accept", "application/vnd.schemaregistry.v1+json, application/json")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("registry GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("registry GET %s: read answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code int    `json:"error_code"`
			Msg  string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Msg == "" {
			e.Msg = strings.TrimSpace(string(body))
			if len(e.Msg) > 200 {
				e.Msg = e.Msg[:200] + "..."
			}
		}
		st := &srStatus{status: resp.StatusCode, code: e.Code, msg: e.Msg}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("registry GET %s: %w (check the registry user and password)", path, st)
		}
		return fmt.Errorf("registry GET %s: %w", path, st)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("registry GET %s: answer is not the expected JSON: %w", path, err)
	}
	return nil
}

func srNotFound(err error) bool {
	var st *srStatus
	return errors.As(err, &st) && st.status == http.StatusNotFound
}

// level returns the subject's compatibility level, else the global one.
func (c *srReader) level(ctx context.Context, subject string) (compat.Level, error) {
	var cfg struct {
		Level string `json:"compatibilityLevel"`
	}
	err := c.get(ctx, "/config/"+url.PathEscape(subject)+"?defaultToGlobal=false", &cfg)
	if err != nil && !srNotFound(err) {
		return "", err
	}
	if err != nil || cfg.Level == "" {
		if err := c.get(ctx, "/config", &cfg); err != nil {
			return "", err
		}
	}
	l, err := compat.ParseLevel(cfg.Level)
	if err != nil {
		return "", fmt.Errorf("registry compatibility level of subject %s: %w", subject, err)
	}
	return l, nil
}

// versions returns the subject's versions, oldest first (only the latest
// when latestOnly); none when the subject does not exist. Existing
// versions are parsed without validating defaults, as the registry
// accepted them, and with their schema references resolved.
func (c *srReader) versions(ctx context.Context, subject string, latestOnly bool) ([]compat.Version, error) {
	var nums []int
	if err := c.get(ctx, "/subjects/"+url.PathEscape(subject)+"/versions", &nums); err != nil {
		if srNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	sort.Ints(nums)
	if latestOnly && len(nums) > 1 {
		nums = nums[len(nums)-1:]
	}
	refs := &srRefs{done: make(map[string]*compat.Schema), busy: make(map[string]bool)}
	var out []compat.Version
	for _, n := range nums {
		v, err := c.fetchVersion(ctx, subject, n, 0, refs)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// maxRefDepth bounds chains of schema references.
const maxRefDepth = 32

// srRefs caches the referenced schemas of one run by subject and version.
type srRefs struct {
	done map[string]*compat.Schema
	busy map[string]bool // being fetched: a cycle if met again
}

// fetchVersion fetches and parses subject version n, first fetching the
// schemas it references (depth-first) so that it can use their types.
func (c *srReader) fetchVersion(ctx context.Context, subject string, n, depth int, refs *srRefs) (compat.Version, error) {
	var ans struct {
		Schema     string `json:"schema"`
		SchemaType string `json:"schemaType"`
		ID         int    `json:"id"`
		References []struct {
			Name    string `json:"name"`
			Subject string `json:"subject"`
			Version int    `json:"version"`
		} `json:"references"`
	}
	path := "/subjects/" + url.PathEscape(subject) + "/versions/" + strconv.Itoa(n)
	if err := c.get(ctx, path, &ans); err != nil {
		return compat.Version{}, err
	}
	label := fmt.Sprintf("%s version %d (id %d)", subject, n, ans.ID)
	if ans.SchemaType != "" && !strings.EqualFold(ans.SchemaType, "AVRO") {
		return compat.Version{}, fmt.Errorf("%s is a %s schema, not Avro", label, ans.SchemaType)
	}
	var imports []*compat.Schema
	for _, r := range ans.References {
		key := r.Subject + "\x00" + strconv.Itoa(r.Version)
		if s, ok := refs.done[key]; ok {
			imports = append(imports, s)
			continue
		}
		if refs.busy[key] {
			return compat.Version{}, fmt.Errorf("%s: schema references form a cycle through %s version %d", label, r.Subject, r.Version)
		}
		if depth >= maxRefDepth {
			return compat.Version{}, fmt.Errorf("%s: schema references nest deeper than %d", label, maxRefDepth)
		}
		refs.busy[key] = true
		v, err := c.fetchVersion(ctx, r.Subject, r.Version, depth+1, refs)
		delete(refs.busy, key)
		if err != nil {
			return compat.Version{}, fmt.Errorf("%s references %s: %w", label, r.Name, err)
		}
		refs.done[key] = v.Schema
		imports = append(imports, v.Schema)
	}
	s, err := compat.ParseWith([]byte(ans.Schema), compat.ParseOptions{SkipDefaultValidation: true, Imports: imports})
	if err != nil {
		return compat.Version{}, fmt.Errorf("%s does not parse: %w", label, err)
	}
	return compat.Version{Label: label, Schema: s}, nil
}
