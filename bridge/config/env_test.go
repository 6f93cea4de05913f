package config

import (
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	env := envMap(map[string]string{
		"USER":   "alice",
		"EMPTY":  "",
		"NESTED": "${USER}",
		"WEIRD":  `p@ss: #{}[]'"&*!|> $$`,
	})
	tests := []struct {
		in, want string
		vars     []string
		errs     []string // substrings, one per expected error
	}{
		{in: "plain", want: "plain"},
		{in: "${USER}", want: "alice", vars: []string{"USER"}},
		{in: "x-${USER}-${USER}", want: "x-alice-alice", vars: []string{"USER"}},
		{in: "${MISSING:-fallback}", want: "fallback", vars: []string{"MISSING"}},
		{in: "${EMPTY:-fallback}", want: "fallback", vars: []string{"EMPTY"}},
		{in: "${EMPTY}", want: "", vars: []string{"EMPTY"}},
		{in: "${MISSING:-}", want: "", vars: []string{"MISSING"}},
		{in: "${MISSING:-a:-b}", want: "a:-b", vars: []string{"MISSING"}},
		{in: "$$", want: "$"},
		{in: "$${USER}", want: "${USER}"},
		{in: "a$b$", want: "a$b$"},
		{in: "$$$${USER}", want: "$${USER}"},
		{in: "${NESTED}", want: "${USER}", vars: []string{"NESTED"}},
		{in: "${WEIRD}", want: `p@ss: #{}[]'"&*!|> $$`, vars: []string{"WEIRD"}},
		{in: "${MISSING}", vars: []string{"MISSING"}, errs: []string{"environment variable MISSING is not set"}},
		{in: "${A_1} ${B}", vars: []string{"A_1", "B"}, errs: []string{"A_1 is not set", "B is not set"}},
		{in: "${USER", errs: []string{"unterminated ${"}},
		{in: "${}", errs: []string{"invalid environment variable name"}},
		{in: "${1X}", errs: []string{"invalid environment variable name"}},
		{in: "${A-B}", errs: []string{"invalid environment variable name"}},
		{in: "${ USER }", errs: []string{"invalid environment variable name"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			x := expand(tt.in, env)
			if len(tt.errs) == 0 && x.value != tt.want {
				t.Errorf("value = %q, want %q", x.value, tt.want)
			}
			if !slices.Equal(x.vars, tt.vars) {
				t.Errorf("vars = %q, want %q", x.vars, tt.vars)
			}
			if len(x.errs) != len(tt.errs) {
				t.Fatalf("errs = %q, want %d containing %q", x.errs, len(tt.errs), tt.errs)
			}
			for i, e := range tt.errs {
				if !strings.Contains(x.errs[i], e) {
					t.Errorf("err[%d] = %q, want it to contain %q", i, x.errs[i], e)
				}
			}
		})
	}
}

// Environment values are substituted after YAML parsing: characters that
// are special in YAML need no quoting and are kept verbatim.
func TestExpansionAfterParsing(t *testing.T) {
	secret := "a: b # not a comment\n- [x] {y} &z *w !tag 'q' \"dq\" ${HOME}"
	src := strings.Replace(minimal, `main: {bootstrap_servers: "localhost:9092"}`, `
  main:
    bootstrap_servers: localhost:9092
    security_protocol: SASL_SSL
    sasl:
      username: ${USER_NAME}
      password: ${KAFKA_PASSWORD}`, 1)
	c := mustParse(t, src, map[string]string{"USER_NAME": "u", "KAFKA_PASSWORD": secret})
	if got := c.Clusters["main"].SASL.Password.Reveal(); got != secret {
		t.Errorf("password = %q, want %q", got, secret)
	}
}

func TestExpansionInTypedValues(t *testing.T) {
	src := minimal + "commit_interval: ${INTERVAL}\nlog: {level: \"${LEVEL:-warn}\"}\n"
	c := mustParse(t, src, map[string]string{"INTERVAL": "5s"})
	if c.CommitInterval.String() != "5s" || c.Log.Level != "warn" {
		t.Errorf("commit_interval = %v, level = %q", c.CommitInterval, c.Log.Level)
	}
	got := parseErrs(t, minimal+"commit_interval: ${INTERVAL}\n", map[string]string{"INTERVAL": "soon-ish"})
	want := `bridge.yaml:12: commit_interval: expected a duration with a unit such as "250ms", "30s" or "1m"; got (value of ${INTERVAL})`
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestKeysAreNotExpanded(t *testing.T) {
	got := parseErrs(t, minimal+"${KEY}: 1\n", map[string]string{"KEY": "log"})
	if len(got) != 1 || !strings.Contains(got[0], `["${KEY}"]: unknown key`) {
		t.Errorf("got %q", got)
	}
}

func TestSensitiveEnvNames(t *testing.T) {
	for name, want := range map[string]bool{
		"KAFKA_PASSWORD": true, "SR_SECRET": true, "API_TOKEN": true, "TRACKUNIT_SR_KEY": true,
		"client_credentials": true, "PRIVATE_PEM": true, "BASIC_AUTH": true, "db_passwd": true,
		"BOOTSTRAP": false, "TOPIC": false, "LOG_LEVEL": false, "HOME": false,
	} {
		if got := sensitiveEnv(name); got != want {
			t.Errorf("sensitiveEnv(%q) = %v, want %v", name, got, want)
		}
	}
}
