package config

import "strings"

// suggest returns the candidate closest to s when it is close enough to be
// a likely misspelling ("grup_id" -> "group_id", "groupId" -> "group_id"),
// or "".
func suggest(s string, candidates []string) string {
	if s == "" || len(s) > maxSuggestLen {
		return ""
	}
	fold := func(x string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(x))
	}
	fs := fold(s)
	best, bestDist := "", -1
	for _, c := range candidates {
		if fold(c) == fs {
			return c
		}
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist >= 0 && bestDist <= max(1, min(len(s), len(best))/3) {
		return best
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b in
// bytes: insertions, deletions, substitutions and adjacent transpositions
// cost 1 each.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
