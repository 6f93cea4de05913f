package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/telebridge/telebridge/bridge/profile"
	"github.com/telebridge/telebridge/internal/testkit"
)

const (
	avscV1 = `{"type":"record","name":"Machine","namespace":"com.acme","fields":[
  {"name":"id","type":"string"},
  {"name":"speed","type":"int"}
]}
`
	// v2 adds a field with a default and widens speed: backward compatible.
	avscV2 = `{"type":"record","name":"Machine","namespace":"com.acme","fields":[
  {"name":"id","type":"string"},
  {"name":"speed","type":"long"},
  {"name":"fuel","type":["null","double"],"default":null}
]}
`
	// v3 adds a field without a default: not backward compatible.
	avscV3 = `{"type":"record","name":"Machine","namespace":"com.acme","fields":[
  {"name":"id","type":"string"},
  {"name":"speed","type":"long"},
  {"name":"hours","type":"double"}
]}
`
	avscBroken = `{"type":"record","name":"Machine","fields":[
  {"name":"id","type":"strin"}
]}
`
)

func writeCompatFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runCompatCLI runs the command and returns stdout, stderr and the exit code.
func runCompatCLI(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := command(args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

func TestCompatCheckLocal(t *testing.T) {
	dir := t.TempDir()
	writeCompatFiles(t, dir, map[string]string{"v1.avsc": avscV1, "v2.avsc": avscV2, "v3.avsc": avscV3, "broken.avsc": avscBroken})
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string // substrings of stdout
		err  []string // substrings of stderr
	}{
		{"backward ok", []string{"compat", "check", "v1.avsc", "v2.avsc"}, 0, []string{"v2.avsc: compatible (BACKWARD with v1.avsc)"}, nil},
		{"backward broken", []string{"compat", "check", "--level", "BACKWARD", "v2.avsc", "v3.avsc"}, 1,
			[]string{"v3.avsc: INCOMPATIBLE (BACKWARD)", "v3.avsc:4:3: READER_FIELD_MISSING_DEFAULT_VALUE at /fields/2", `reader field "hours"`}, []string{"1 schema(s) incompatible"}},
		{"forward", []string{"compat", "check", "--level", "forward", "v1.avsc", "v2.avsc"}, 1,
			[]string{"v2.avsc:3:26: TYPE_MISMATCH at /fields/1/type"}, nil},
		{"non-transitive checks the latest only", []string{"compat", "check", "--level", "FORWARD", "v1.avsc", "v2.avsc", "v2.avsc"}, 0, nil, nil},
		{"transitive checks all", []string{"compat", "check", "--level", "FORWARD_TRANSITIVE", "v1.avsc", "v2.avsc", "v2.avsc"}, 1, []string{"against v1.avsc"}, nil},
		{"full transitive", []string{"compat", "check", "--level", "FULL_TRANSITIVE", "v1.avsc", "v2.avsc", "v3.avsc"}, 1,
			[]string{"against v2.avsc", "against v1.avsc"}, nil},
		{"none", []string{"compat", "check", "--level", "NONE", "v1.avsc", "v3.avsc"}, 0, nil, nil},
		{"parse error names file, line, column", []string{"compat", "check", "v1.avsc", "broken.avsc"}, 2,
			[]string{`broken.avsc:2:23: error: line 2, column 23: unknown type "strin"`}, []string{"could not be checked"}},
		{"parse error in history", []string{"compat", "check", "broken.avsc", "v1.avsc"}, 2, []string{"broken.avsc:2:23: error:"}, nil},
		{"missing file", []string{"compat", "check", "v1.avsc", "nope.avsc"}, 2, []string{"nope.avsc: error:"}, nil},
		{"one file", []string{"compat", "check", "v1.avsc"}, 2, nil, []string{"at least two schema files"}},
		{"bad level", []string{"compat", "check", "--level", "SIDEWAYS", "v1.avsc", "v2.avsc"}, 2, nil, []string{"unknown compatibility level"}},
		{"bad format", []string{"compat", "check", "--format", "xml", "v1.avsc", "v2.avsc"}, 2, nil, []string{"unknown --format"}},
		{"unknown flag", []string{"compat", "check", "--nope", "v1.avsc", "v2.avsc"}, 2, nil, []string{"unknown flag"}},
		{"subject without registry", []string{"compat", "check", "--subject", "s", "v1.avsc", "v2.avsc"}, 2, nil, []string{"--subject needs --registry"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCompatCLI(t, dir, nil, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

func TestCompatCheckFormats(t *testing.T) {
	dir := t.TempDir()
	writeCompatFiles(t, dir, map[string]string{"v1.avsc": avscV1, "v2.avsc": avscV2, "v3.avsc": avscV3, "broken.avsc": avscBroken})

	t.Run("json", func(t *testing.T) {
		out, _, code := runCompatCLI(t, dir, nil, "compat", "check", "--format", "json", "--level", "FULL", "v1.avsc", "v3.avsc")
		if code != 1 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		var doc struct {
			Compatible bool
			Targets    []struct {
				Name, File, Status, Level string
				Checks                    []struct {
					Direction, Against string
					Incompatibilities  []struct {
						Type, Location, WriterLocation, Message, CandidateLocation string
						Line, Column                                               int
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if doc.Compatible || len(doc.Targets) != 1 || doc.Targets[0].Status != "incompatible" || doc.Targets[0].Level != "FULL" || len(doc.Targets[0].Checks) != 2 {
			t.Fatalf("unexpected: %+v", doc)
		}
		back := doc.Targets[0].Checks[0]
		if back.Direction != "backward" || len(back.Incompatibilities) != 1 || back.Incompatibilities[0].Type != "READER_FIELD_MISSING_DEFAULT_VALUE" || back.Incompatibilities[0].Line != 4 {
			t.Fatalf("backward: %+v", back)
		}
		fwd := doc.Targets[0].Checks[1]
		if fwd.Direction != "forward" || len(fwd.Incompatibilities) != 1 || fwd.Incompatibilities[0].Type != "TYPE_MISMATCH" || fwd.Incompatibilities[0].CandidateLocation != "/fields/1/type" || fwd.Incompatibilities[0].Line != 3 {
			t.Fatalf("forward: %+v", fwd)
		}
	})

	t.Run("junit", func(t *testing.T) {
		out, _, code := runCompatCLI(t, dir, nil, "compat", "check", "--format", "junit", "--level", "FULL", "v1.avsc", "v3.avsc")
		if code != 1 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		var doc struct {
			XMLName  xml.Name `xml:"testsuites"`
			Tests    int      `xml:"tests,attr"`
			Failures int      `xml:"failures,attr"`
			Suites   []struct {
				Name  string `xml:"name,attr"`
				Cases []struct {
					Name    string `xml:"name,attr"`
					Class   string `xml:"classname,attr"`
					Failure *struct {
						Type string `xml:"type,attr"`
						Text string `xml:",chardata"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not XML: %v\n%s", err, out)
		}
		if doc.Tests != 2 || doc.Failures != 2 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 2 {
			t.Fatalf("unexpected: %+v", doc)
		}
		c := doc.Suites[0].Cases[0]
		if c.Failure == nil || c.Failure.Type != "READER_FIELD_MISSING_DEFAULT_VALUE" || c.Class != "v3.avsc" || !strings.Contains(c.Failure.Text, "v3.avsc:4:3:") {
			t.Fatalf("case: %+v", c)
		}
		// A compatible check is a passing test case.
		out, _, code = runCompatCLI(t, dir, nil, "compat", "check", "--format", "junit", "v1.avsc", "v2.avsc")
		if code != 0 || !strings.Contains(out, `failures="0"`) || !strings.Contains(out, `tests="1"`) {
			t.Fatalf("exit %d\n%s", code, out)
		}
		// A parse error is an error test case.
		out, _, code = runCompatCLI(t, dir, nil, "compat", "check", "--format", "junit", "v1.avsc", "broken.avsc")
		if code != 2 || !strings.Contains(out, `errors="1"`) || !strings.Contains(out, "broken.avsc:2:23") {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})

	t.Run("sarif", func(t *testing.T) {
		out, _, code := runCompatCLI(t, dir, nil, "compat", "check", "--format", "sarif", "v2.avsc", "v3.avsc")
		if code != 1 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		var doc struct {
			Version string
			Runs    []struct {
				Tool struct {
					Driver struct {
						Name  string
						Rules []struct{ ID string }
					}
				}
				Results []struct {
					RuleID    string
					Level     string
					Message   struct{ Text string }
					Locations []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           struct{ StartLine, StartColumn int }
						}
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if doc.Version != "2.1.0" || len(doc.Runs) != 1 || len(doc.Runs[0].Tool.Driver.Rules) != 8 || len(doc.Runs[0].Results) != 1 {
			t.Fatalf("unexpected: %s", out)
		}
		r := doc.Runs[0].Results[0]
		pl := r.Locations[0].PhysicalLocation
		if r.RuleID != "READER_FIELD_MISSING_DEFAULT_VALUE" || r.Level != "error" || pl.ArtifactLocation.URI != "v3.avsc" || pl.Region.StartLine != 4 || pl.Region.StartColumn != 3 {
			t.Fatalf("result: %+v", r)
		}
		out, _, code = runCompatCLI(t, dir, nil, "compat", "check", "--format", "sarif", "v1.avsc", "broken.avsc")
		if code != 2 || !strings.Contains(out, `"ruleId": "SCHEMA_ERROR"`) || !strings.Contains(out, `"startLine": 2`) {
			t.Fatalf("exit %d\n%s", code, out)
		}
	})
}

func TestCompatCheckGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("TELEBRIDGE_TEST_GIT") != "" {
			t.Fatal("TELEBRIDGE_TEST_GIT is set but git is not installed")
		}
		t.Skip("git is not installed (set TELEBRIDGE_TEST_GIT=1 to require it)")
	}
	dir := t.TempDir()
	gitEnv := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"}
	gitRun := func(args ...string) {
		t.Helper()
		c := exec.Command("git", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), gitEnv...)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitRun("init", "-q", "-b", "main")
	writeCompatFiles(t, dir, map[string]string{"schemas/machine.avsc": avscV2, "schemas/sub/ok.avsc": avscV1, "README": "x"})
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "v1")
	// The working tree breaks machine.avsc, keeps ok.avsc and adds new.avsc.
	writeCompatFiles(t, dir, map[string]string{"schemas/machine.avsc": avscV3, "schemas/new.avsc": avscV1})

	out, errOut, code := runCompatCLI(t, dir, gitEnv, "compat", "check", "--against-git", "main", "schemas")
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, w := range []string{
		"schemas/machine.avsc: INCOMPATIBLE (BACKWARD)",
		"against main:schemas/machine.avsc",
		"schemas/machine.avsc:4:3: READER_FIELD_MISSING_DEFAULT_VALUE",
		"schemas/new.avsc: new schema",
		"schemas/sub/ok.avsc: compatible",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	// From a subfolder, paths are relative to it.
	out, errOut, code = runCompatCLI(t, filepath.Join(dir, "schemas"), gitEnv, "compat", "check", "--against-git", "main", "sub")
	if code != 0 || !strings.Contains(out, "sub/ok.avsc: compatible") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// Forward is fine for machine.avsc (the old schema ignores hours).
	_, _, code = runCompatCLI(t, dir, gitEnv, "compat", "check", "--against-git", "main", "--level", "FORWARD", "schemas/machine.avsc")
	if code != 0 {
		t.Fatalf("forward: exit %d", code)
	}
	// A ref that does not exist is a usage error.
	_, errOut, code = runCompatCLI(t, dir, gitEnv, "compat", "check", "--against-git", "origin/nope", "schemas")
	if code != 2 || !strings.Contains(errOut, `git ref "origin/nope"`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// A broken file at the ref is named with the ref.
	writeCompatFiles(t, dir, map[string]string{"schemas/sub/ok.avsc": avscBroken})
	gitRun("commit", "-q", "-am", "broken")
	writeCompatFiles(t, dir, map[string]string{"schemas/sub/ok.avsc": avscV1})
	out, _, code = runCompatCLI(t, dir, gitEnv, "compat", "check", "--against-git", "HEAD", "schemas/sub")
	if code != 2 || !strings.Contains(out, "HEAD:schemas/sub/ok.avsc:2:23: error:") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func putRegistryConfig(t *testing.T, reg *testkit.Registry, path, level string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, reg.URL()+path, strings.NewReader(`{"compatibility":"`+level+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testkit.RegistryUser, testkit.RegistryPasswd)
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", path, resp.Status)
	}
}

func TestCompatCheckRegistry(t *testing.T) {
	reg := testkit.StartRegistry()
	defer reg.Close()
	for _, s := range []string{avscV1, avscV2} {
		if _, _, err := reg.RegisterSchema("machines-value", sr.Schema{Schema: s}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	writeCompatFiles(t, dir, map[string]string{"v1.avsc": avscV1, "v2.avsc": avscV2, "v3.avsc": avscV3})
	auth := []string{"TELEBRIDGE_REGISTRY_USERNAME=" + testkit.RegistryUser, "TELEBRIDGE_REGISTRY_PASSWORD=" + testkit.RegistryPasswd}
	check := func(env []string, args ...string) (string, string, int) {
		return runCompatCLI(t, dir, env, append([]string{"compat", "check", "--registry", reg.URL(), "--subject", "machines-value"}, args...)...)
	}

	// Global FORWARD: v1 data... the latest (v2) must read v3: it can.
	putRegistryConfig(t, reg, "/config", "FORWARD")
	if out, errOut, code := check(auth, "v3.avsc"); code != 0 || !strings.Contains(out, "compatible (FORWARD with machines-value version 2") {
		t.Fatalf("global level: exit %d\n%s\n%s", code, out, errOut)
	}
	// The subject's level wins over the global one.
	putRegistryConfig(t, reg, "/config/machines-value", "BACKWARD")
	if out, _, code := check(auth, "v3.avsc"); code != 1 || !strings.Contains(out, "INCOMPATIBLE (BACKWARD)") {
		t.Fatalf("subject level: exit %d\n%s", code, out)
	}
	// --level wins over both; transitive levels fetch every version.
	out, _, code := check(auth, "--level", "FORWARD_TRANSITIVE", "v3.avsc")
	if code != 1 || !strings.Contains(out, "against machines-value version 1") || !strings.Contains(out, "TYPE_MISMATCH") {
		t.Fatalf("--level: exit %d\n%s", code, out)
	}
	// Flags carry credentials too.
	if _, errOut, code := check(nil, "--username", testkit.RegistryUser, "--password", testkit.RegistryPasswd, "v2.avsc"); code != 0 {
		t.Fatalf("flags: exit %d: %s", code, errOut)
	}
	// A subject without versions: the candidate is new.
	out, _, code = runCompatCLI(t, dir, auth, "compat", "check", "--registry", reg.URL(), "--subject", "nothing-value", "v1.avsc")
	if code != 0 || !strings.Contains(out, "new schema") {
		t.Fatalf("new subject: exit %d\n%s", code, out)
	}
	// Wrong password: exit 2, the password is not printed.
	_, errOut, code := check([]string{"TELEBRIDGE_REGISTRY_USERNAME=" + testkit.RegistryUser, "TELEBRIDGE_REGISTRY_PASSWORD=wrong-pass-xyz"}, "v2.avsc")
	if code != 2 || !strings.Contains(errOut, "check the registry user and password") || strings.Contains(errOut, "wrong-pass-xyz") {
		t.Fatalf("wrong password: exit %d: %s", code, errOut)
	}
	// Unreachable registry: exit 2.
	_, errOut, code = runCompatCLI(t, dir, auth, "compat", "check", "--registry", "http://127.0.0.1:1", "--subject", "s", "--timeout", "5s", "v2.avsc")
	if code != 2 || !strings.Contains(errOut, "registry GET") {
		t.Fatalf("unreachable: exit %d: %s", code, errOut)
	}
	// https: verified against the system roots by default, or --ca-file.
	ts := httptest.NewUnstartedServer(reg.Handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	ts.StartTLS()
	defer ts.Close()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsCheck := func(extra ...string) (string, string, int) {
		return runCompatCLI(t, dir, auth, append([]string{"compat", "check", "--registry", ts.URL, "--subject", "machines-value"}, extra...)...)
	}
	if _, errOut, code := tlsCheck("v2.avsc"); code != 2 || !strings.Contains(errOut, "certificate") {
		t.Fatalf("untrusted certificate: exit %d: %s", code, errOut)
	}
	if out, errOut, code := tlsCheck("--ca-file", caFile, "v2.avsc"); code != 0 {
		t.Fatalf("--ca-file: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := tlsCheck("--ca-file", filepath.Join(dir, "v1.avsc"), "v2.avsc"); code != 2 || !strings.Contains(errOut, "no PEM certificate") {
		t.Fatalf("bad --ca-file: exit %d: %s", code, errOut)
	}
	// Two files in registry mode is a usage error.
	if _, _, code := check(auth, "v1.avsc", "v2.avsc"); code != 2 {
		t.Fatalf("two files: exit %d", code)
	}
}

func TestCompatVerify(t *testing.T) {
	reg := testkit.StartRegistry()
	defer reg.Close()
	v2, err := os.ReadFile("../../testdata/trackunit/insights-v2.avsc")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{profile.TrackunitReaderSchema(), string(v2)} {
		if _, _, err := reg.RegisterSchema("tu.in-value", sr.Schema{Schema: s, Type: sr.TypeAvro}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	// The Kafka cluster is never contacted by verify.
	text := fmt.Sprintf(procConfig, "127.0.0.1:1", "", testkit.KafkaUser, reg.URL(), testkit.RegistryUser, "v", "v", "out", "", "out")
	cfgPath := filepath.Join(dir, "bridge.yaml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"TB_TEST_KAFKA_PASSWORD=x", "TB_TEST_SR_PASSWORD=" + testkit.RegistryPasswd}

	out, errOut, code := runCompatCLI(t, dir, env, "compat", "verify", "-c", cfgPath)
	if code != 0 || !strings.Contains(out, "source trackunit: trackunit-insights reader schema vs subject tu.in-value: compatible (BACKWARD_TRANSITIVE with tu.in-value version 2") {
		t.Fatalf("compatible versions: exit %d\n%s\n%s", code, out, errOut)
	}

	// The provider publishes a version whose UnitInstallDateTime is a
	// string: the pinned reader (a long) cannot read it.
	bad := strings.Replace(profile.TrackunitReaderSchema(), `"long"`, `"string"`, 1)
	if bad == profile.TrackunitReaderSchema() {
		t.Fatal("no long to replace")
	}
	if _, _, err := reg.RegisterSchema("tu.in-value", sr.Schema{Schema: bad, Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"--latest-only"}} {
		out, errOut, code = runCompatCLI(t, dir, env, append([]string{"compat", "verify", "-c", cfgPath}, args...)...)
		if code != 1 || !strings.Contains(out, "against tu.in-value version 3") || !strings.Contains(out, "MISSING_UNION_BRANCH at /fields/0/type/1/fields/0/type:") {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		if strings.Contains(out, "version 1") != (len(args) == 0) {
			t.Fatalf("%v: versions checked:\n%s", args, out)
		}
	}
	// JSON output for nightly jobs.
	out, _, code = runCompatCLI(t, dir, env, "compat", "verify", "-c", cfgPath, "--format", "json")
	var doc struct{ Compatible bool }
	if code != 1 || json.Unmarshal([]byte(out), &doc) != nil || doc.Compatible {
		t.Fatalf("json: exit %d\n%s", code, out)
	}

	// A subject the registry does not have is an error, not a pass.
	text = strings.ReplaceAll(text, "tu.in", "tu.other")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCompatCLI(t, dir, env, "compat", "verify", "-c", cfgPath)
	if code != 2 || !strings.Contains(out, "no versions under subject tu.other-value") {
		t.Fatalf("missing subject: exit %d\n%s", code, out)
	}
	// A config that does not load is exit 2.
	if _, errOut, code := runCompatCLI(t, dir, nil, "compat", "verify", "-c", cfgPath); code != 2 || !strings.Contains(errOut, "TB_TEST_") {
		t.Fatalf("bad config: exit %d: %s", code, errOut)
	}
}

// Confluent schema references: registered versions that use another
// subject's types are resolved; the candidate gets them with --reference.
func TestCompatCheckReferences(t *testing.T) {
	reg := testkit.StartRegistry()
	defer reg.Close()
	const (
		addr1 = `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"}]}`
		addr2 = `{"type":"record","name":"Address","namespace":"com.acme","fields":[{"name":"city","type":"string"},{"name":"zip","type":"string"}]}`
		mach  = `{"type":"record","name":"Machine","namespace":"com.acme","fields":[{"name":"id","type":"string"},{"name":"home","type":"Address"}]}`
	)
	if _, _, err := reg.RegisterSchema("address-value", sr.Schema{Schema: addr1, Type: sr.TypeAvro}); err != nil {
		t.Fatal(err)
	}
	ref := []sr.SchemaReference{{Name: "com.acme.Address", Subject: "address-value", Version: 1}}
	if _, _, err := reg.RegisterSchema("machines-value", sr.Schema{Schema: mach, Type: sr.TypeAvro, References: ref}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeCompatFiles(t, dir, map[string]string{"address-v1.avsc": addr1, "address-v2.avsc": addr2, "machine.avsc": mach, "broken.avsc": avscBroken})
	auth := []string{"TELEBRIDGE_REGISTRY_USERNAME=" + testkit.RegistryUser, "TELEBRIDGE_REGISTRY_PASSWORD=" + testkit.RegistryPasswd}
	check := func(args ...string) (string, string, int) {
		return runCompatCLI(t, dir, auth, append([]string{"compat", "check", "--registry", reg.URL(), "--subject", "machines-value", "--level", "BACKWARD"}, args...)...)
	}
	if out, errOut, code := check("--reference", "address-v1.avsc", "machine.avsc"); code != 0 {
		t.Fatalf("same address: exit %d\n%s\n%s", code, out, errOut)
	}
	// The new Address adds zip without a default: machines written with
	// the registered version cannot be read.
	out, errOut, code := check("--reference", "address-v2.avsc", "machine.avsc")
	if code != 1 || !strings.Contains(out, "READER_FIELD_MISSING_DEFAULT_VALUE at /fields/1/type/fields/1") || !strings.Contains(out, "machine.avsc:1:") {
		t.Fatalf("new address: exit %d\n%s\n%s", code, out, errOut)
	}
	// Without the reference the candidate does not parse.
	out, _, code = check("machine.avsc")
	if code != 2 || !strings.Contains(out, `unknown type "Address"`) {
		t.Fatalf("no reference: exit %d\n%s", code, out)
	}
	if _, errOut, code := check("--reference", "broken.avsc", "machine.avsc"); code != 2 || !strings.Contains(errOut, "--reference broken.avsc: line 2, column 23") {
		t.Fatalf("broken reference: exit %d: %s", code, errOut)
	}
	// Local mode takes references too.
	out, _, code = runCompatCLI(t, dir, nil, "compat", "check", "--reference", "address-v1.avsc", "machine.avsc", "machine.avsc")
	if code != 0 {
		t.Fatalf("local: exit %d\n%s", code, out)
	}
}

// compatGitRepo makes a git repository in a temporary folder with files
// committed on branch main and returns its folder and the environment for
// git and the CLI. It skips when git is missing, unless
// TELEBRIDGE_TEST_GIT is set.
func compatGitRepo(t *testing.T, files map[string]string) (string, []string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("TELEBRIDGE_TEST_GIT") != "" {
			t.Fatal("TELEBRIDGE_TEST_GIT is set but git is not installed")
		}
		t.Skip("git is not installed (set TELEBRIDGE_TEST_GIT=1 to require it)")
	}
	dir := t.TempDir()
	gitEnv := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1"}
	writeCompatFiles(t, dir, files)
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "schemas"}} {
		c := exec.Command("git", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), gitEnv...)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir, gitEnv
}

// A schema that exists at the ref but not in the working tree is reported
// as deleted in every format and fails the check unless --allow-deleted.
func TestCompatCheckGitDeleted(t *testing.T) {
	dir, gitEnv := compatGitRepo(t, map[string]string{
		"schemas/machine.avsc": avscV2,
		"schemas/gone.avsc":    avscV1,
		"schemas/sub/ok.avsc":  avscV1,
		"schemas/sub/old.avsc": avscV1,
		"schemas/notes.txt":    "not a schema",
		"other/elsewhere.avsc": avscV1,
		"README":               "x",
	})
	// The working tree deletes gone.avsc, renames sub/old.avsc, deletes
	// the whole other/ folder (outside schemas/) and a non-schema file.
	for _, p := range []string{"schemas/gone.avsc", "other/elsewhere.avsc", "schemas/notes.txt"} {
		if err := os.Remove(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(dir, "other")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "schemas/sub/old.avsc"), filepath.Join(dir, "schemas/sub/renamed.avsc")); err != nil {
		t.Fatal(err)
	}
	check := func(cwd string, args ...string) (string, string, int) {
		t.Helper()
		return runCompatCLI(t, cwd, gitEnv, append([]string{"compat", "check", "--against-git", "main"}, args...)...)
	}
	expect := func(what, out, errOut string, code, wantCode int, has, hasNot []string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, code, wantCode, out, errOut)
		}
		for _, w := range has {
			if !strings.Contains(out+errOut, w) {
				t.Errorf("%s: output lacks %q:\n%s\n%s", what, w, out, errOut)
			}
		}
		for _, w := range hasNot {
			if strings.Contains(out+errOut, w) {
				t.Errorf("%s: output has %q:\n%s\n%s", what, w, out, errOut)
			}
		}
	}

	t.Run("text", func(t *testing.T) {
		out, errOut, code := check(dir, "schemas")
		expect("deleted", out, errOut, code, 1, []string{
			"main:schemas/gone.avsc: DELETED: the schema is gone from the working tree (schemas/gone.avsc)",
			"main:schemas/sub/old.avsc: DELETED",
			"schemas/sub/renamed.avsc: new schema",
			"schemas/machine.avsc: compatible",
			"schemas/sub/ok.avsc: compatible",
			"2 of 5 schema(s) deleted\n",
			"2 schema(s) deleted since the git ref (pass --allow-deleted",
		}, []string{"elsewhere", "notes.txt"})
		// In path order among the other files.
		if i, j := strings.Index(out, "main:schemas/gone.avsc"), strings.Index(out, "schemas/machine.avsc"); i > j {
			t.Errorf("not in path order:\n%s", out)
		}

		out, errOut, code = check(dir, "--allow-deleted", "schemas")
		expect("allowed", out, errOut, code, 0, []string{
			"main:schemas/gone.avsc: deleted: the schema is gone from the working tree (schemas/gone.avsc); allowed",
			"main:schemas/sub/old.avsc: deleted",
			"all 3 remaining schema(s) compatible, 2 deleted (allowed)",
		}, []string{"DELETED", "elsewhere"})
	})

	t.Run("json", func(t *testing.T) {
		type doc struct {
			Compatible bool
			Targets    []struct {
				Name, File, Status string
				DeletionAllowed    bool
			}
		}
		for _, allow := range []bool{false, true} {
			args := []string{"--format", "json", "schemas"}
			if allow {
				args = append(args, "--allow-deleted")
			}
			out, errOut, code := check(dir, args...)
			var d doc
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("not JSON: %v\n%s\n%s", err, out, errOut)
			}
			if (code == 0) != allow || d.Compatible != allow || len(d.Targets) != 5 {
				t.Fatalf("allow %v: exit %d\n%s", allow, code, out)
			}
			var deleted []string
			for _, tg := range d.Targets {
				if tg.Status == "deleted" {
					if tg.DeletionAllowed != allow || tg.Name != "main:"+tg.File {
						t.Errorf("allow %v: %+v", allow, tg)
					}
					deleted = append(deleted, tg.File)
				}
			}
			if strings.Join(deleted, ",") != "schemas/gone.avsc,schemas/sub/old.avsc" {
				t.Fatalf("allow %v: deleted %v\n%s", allow, deleted, out)
			}
		}
	})

	t.Run("junit", func(t *testing.T) {
		type doc struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Suites   []struct {
				Name  string `xml:"name,attr"`
				Cases []struct {
					File    string `xml:"file,attr"`
					Failure *struct {
						Type string `xml:"type,attr"`
						Text string `xml:",chardata"`
					} `xml:"failure"`
					Skipped *struct{} `xml:"skipped"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		for _, allow := range []bool{false, true} {
			args := []string{"--format", "junit", "schemas/sub"}
			if allow {
				args = append(args, "--allow-deleted")
			}
			out, _, code := check(dir, args...)
			var d doc
			if err := xml.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("not XML: %v\n%s", err, out)
			}
			// sub/ok.avsc compatible, sub/old.avsc deleted, sub/renamed.avsc new.
			if (code == 0) != allow || len(d.Suites) != 3 || d.Suites[1].Name != "main:schemas/sub/old.avsc" {
				t.Fatalf("allow %v: exit %d\n%s", allow, code, out)
			}
			c := d.Suites[1].Cases[0]
			if allow {
				if d.Failures != 0 || c.Failure != nil || c.Skipped == nil {
					t.Fatalf("allowed deletion is a skipped case:\n%s", out)
				}
				continue
			}
			if d.Failures != 1 || c.Failure == nil || c.Failure.Type != "SCHEMA_DELETED" || c.File != "schemas/sub/old.avsc" || !strings.Contains(c.Failure.Text, "main:schemas/sub/old.avsc: DELETED") {
				t.Fatalf("deletion is a failed case:\n%s", out)
			}
		}
	})

	t.Run("sarif", func(t *testing.T) {
		type doc struct {
			Runs []struct {
				Results []struct {
					RuleID, Level string
					Message       struct{ Text string }
					Locations     []struct {
						PhysicalLocation struct {
							ArtifactLocation struct{ URI string }
							Region           *struct{ StartLine int }
						}
					}
				}
			}
		}
		for _, allow := range []bool{false, true} {
			args := []string{"--format", "sarif", "schemas"}
			level := "error"
			if allow {
				args, level = append(args, "--allow-deleted"), "note"
			}
			out, _, code := check(dir, args...)
			var d doc
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if (code == 0) != allow || len(d.Runs) != 1 || len(d.Runs[0].Results) != 2 {
				t.Fatalf("allow %v: exit %d\n%s", allow, code, out)
			}
			for i, uri := range []string{"schemas/gone.avsc", "schemas/sub/old.avsc"} {
				r := d.Runs[0].Results[i]
				if r.RuleID != "SCHEMA_DELETED" || r.Level != level || !strings.Contains(r.Message.Text, "main:"+uri) || len(r.Locations) != 1 {
					t.Fatalf("allow %v: result %+v", allow, r)
				}
				if pl := r.Locations[0].PhysicalLocation; pl.ArtifactLocation.URI != uri || pl.Region != nil {
					t.Fatalf("allow %v: location %+v", allow, pl)
				}
			}
		}
	})

	t.Run("only under the given paths", func(t *testing.T) {
		out, errOut, code := check(dir, "schemas/machine.avsc", "schemas/sub/ok.avsc")
		expect("files", out, errOut, code, 0, []string{"all 2 schema(s) compatible"}, []string{"deleted", "DELETED"})
		out, errOut, code = check(dir, "schemas/sub")
		expect("subfolder arg", out, errOut, code, 1, []string{"main:schemas/sub/old.avsc: DELETED", "1 of 3 schema(s) deleted"}, []string{"gone.avsc", "elsewhere"})
		// A folder named like the start of another is not under it.
		writeCompatFiles(t, dir, map[string]string{"schemas/su/x.avsc": avscV1})
		defer os.RemoveAll(filepath.Join(dir, "schemas/su"))
		out, errOut, code = check(dir, "schemas/su")
		expect("prefix", out, errOut, code, 0, []string{"schemas/su/x.avsc: new schema"}, []string{"old.avsc"})
	})

	t.Run("deleted paths given", func(t *testing.T) {
		out, errOut, code := check(dir, "schemas/gone.avsc")
		expect("file", out, errOut, code, 1, []string{"main:schemas/gone.avsc: DELETED", "1 of 1 schema(s) deleted"}, nil)
		out, errOut, code = check(dir, "other")
		expect("folder", out, errOut, code, 1, []string{"main:other/elsewhere.avsc: DELETED"}, nil)
		out, errOut, code = check(dir, "--allow-deleted", "other")
		expect("folder allowed", out, errOut, code, 0, []string{"main:other/elsewhere.avsc: deleted", "all 0 remaining schema(s) compatible, 1 deleted (allowed)"}, nil)
		// Neither in the working tree nor at the ref: a usage error.
		out, errOut, code = check(dir, "schemas/nope.avsc")
		expect("typo", out, errOut, code, 2, []string{"schemas/nope.avsc", "not at main either"}, nil)
		// A path outside the repository cannot be compared with the ref.
		out, errOut, code = check(dir, t.TempDir())
		expect("outside", out, errOut, code, 2, []string{"outside repository"}, nil)
	})

	t.Run("subfolder cwd", func(t *testing.T) {
		sub := filepath.Join(dir, "schemas")
		out, errOut, code := check(sub, "sub")
		expect("sub", out, errOut, code, 1, []string{"main:sub/old.avsc: DELETED: the schema is gone from the working tree (sub/old.avsc)", "sub/ok.avsc: compatible"}, []string{"gone.avsc", "elsewhere"})
		out, errOut, code = check(sub)
		expect("default .", out, errOut, code, 1, []string{"main:gone.avsc: DELETED", "main:sub/old.avsc: DELETED", "machine.avsc: compatible"}, []string{"elsewhere"})
		out, errOut, code = check(sub, "--format", "sarif", "../other")
		expect("parent", out, errOut, code, 1, []string{`"uri": "../other/elsewhere.avsc"`, "main:../other/elsewhere.avsc"}, nil)
	})

	t.Run("with incompatible and unparsable schemas", func(t *testing.T) {
		// An incompatible schema fails the check even with --allow-deleted.
		writeCompatFiles(t, dir, map[string]string{"schemas/machine.avsc": avscV3})
		defer writeCompatFiles(t, dir, map[string]string{"schemas/machine.avsc": avscV2})
		out, errOut, code := check(dir, "schemas")
		expect("both", out, errOut, code, 1, []string{"1 of 5 schema(s) incompatible, 2 deleted", "1 schema(s) incompatible; 2 schema(s) deleted"}, nil)
		out, errOut, code = check(dir, "--allow-deleted", "schemas")
		expect("both allowed", out, errOut, code, 1, []string{"1 of 5 schema(s) incompatible, 2 deleted (allowed)", "1 schema(s) incompatible"}, []string{"schema(s) deleted since"})
		// A schema that cannot be checked wins: exit 2.
		writeCompatFiles(t, dir, map[string]string{"schemas/machine.avsc": avscBroken})
		out, errOut, code = check(dir, "schemas")
		expect("broken", out, errOut, code, 2, []string{"main:schemas/gone.avsc: DELETED", "could not be checked"}, nil)
	})

	t.Run("usage", func(t *testing.T) {
		out, errOut, code := runCompatCLI(t, dir, nil, "compat", "check", "--allow-deleted", "a.avsc", "b.avsc")
		expect("no git", out, errOut, code, 2, []string{"--allow-deleted needs --against-git"}, nil)
	})
}
