package kafkaws

import (
	"crypto/hmac"
	"fmt"
	"sort"
	"strings"
)

// access decides which tenant may read which topic: a tenant reads topics
// starting with "<tenant>." and those matching its configured patterns,
// where "*" matches any run of characters (including dots) and every other
// character matches itself.
type access struct {
	patterns map[string][]string // tenant -> patterns
	tenants  []string            // sorted keys of patterns
}

func newAccess(tenants map[string][]string) (*access, error) {
	a := &access{patterns: map[string][]string{}}
	for t, ps := range tenants {
		if t == "" {
			return nil, fmt.Errorf("tenants: empty tenant name")
		}
		for i, p := range ps {
			if p == "" {
				return nil, fmt.Errorf("tenants.%s[%d]: empty pattern", t, i)
			}
		}
		a.patterns[t] = append([]string(nil), ps...)
		a.tenants = append(a.tenants, t)
	}
	sort.Strings(a.tenants)
	return a, nil
}

// allowed reports whether tenant may read topic.
func (a *access) allowed(tenant, topic string) bool {
	if strings.HasPrefix(topic, tenant+".") {
		return true
	}
	for _, p := range a.patterns[tenant] {
		if globMatch(p, topic) {
			return true
		}
	}
	return false
}

// candidates lists the tenants that may read topic: each dot-terminated
// prefix of the topic, then the configured tenants granted it by a pattern.
func (a *access) candidates(topic string) []string {
	var out []string
	for i := 0; i < len(topic); i++ {
		if topic[i] == '.' && i > 0 {
			out = append(out, topic[:i])
		}
	}
	for _, t := range a.tenants {
		for _, p := range a.patterns[t] {
			if globMatch(p, topic) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// tenantFor finds the tenant whose tag the ticket carries among those that
// may read topic; false means the ticket's tenant may not read it.
func (a *access) tenantFor(topic string, tag [8]byte, tk *tickets) (string, bool) {
	for _, t := range a.candidates(topic) {
		if hmac.Equal(tk.tenantTag(t), tag[:]) {
			return t, true
		}
	}
	return "", false
}

// globMatch matches s against p where '*' matches any run of bytes.
func globMatch(p, s string) bool {
	// Iterative matcher with single backtrack point: linear in practice.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
