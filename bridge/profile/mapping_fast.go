package profile

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/vm/runtime"
)

// The mapping fast path: the common shapes of mapping expressions (a path
// into the record, a helper call over paths, comparisons, "in" a constant
// list, !, &&, ||, ?:) are turned into a small tree of Go closures at
// compile time and evaluated without the expression VM, which must
// otherwise box every operand and allocate per call. Every other
// expression runs on the VM. Both paths use expr's own runtime for member
// access, equality and "in", and the same helper functions, so they give
// the same results and fail on the same inputs (TestMappingFastPathMatchesVM
// and the fuzz target compare them). A fast node reports failure by
// panicking like the VM's runtime does; mexpr.eval recovers.

// fnode is one compiled fast-path node.
type fnode func(st *evalState) any

// Root variable slots of evalState.roots.
const (
	rootRecord = iota
	rootKafka
	rootVars
	rootKey
	rootValue
	rootIndex
	numRoots
)

var rootNames = [numRoots]string{"record", "kafka", "vars", "key", "value", "index"}

func rootSlot(name string) (int, bool) {
	for i, n := range rootNames {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// fastCompile returns the fast-path closure of n, or nil when n (or a part
// of it) is not of a supported shape.
func fastCompile(n ast.Node, hs map[string]*helper) fnode {
	switch x := n.(type) {
	case *ast.NilNode:
		return func(*evalState) any { return nil }
	case *ast.BoolNode:
		return constNode(x.Value)
	case *ast.StringNode:
		return constNode(x.Value)
	case *ast.IntegerNode:
		return constNode(x.Value)
	case *ast.FloatNode:
		return constNode(x.Value)
	case *ast.ConstantNode:
		return constNode(x.Value)
	case *ast.ArrayNode:
		// A list of constants is built once; expressions never modify a
		// value, so sharing it is safe.
		vals := make([]any, len(x.Nodes))
		for i, e := range x.Nodes {
			switch c := e.(type) {
			case *ast.StringNode:
				vals[i] = c.Value
			case *ast.IntegerNode:
				vals[i] = c.Value
			case *ast.FloatNode:
				vals[i] = c.Value
			case *ast.BoolNode:
				vals[i] = c.Value
			default:
				return nil
			}
		}
		return constNode(vals)
	case *ast.IdentifierNode:
		slot, ok := rootSlot(x.Value)
		if !ok {
			return nil
		}
		return func(st *evalState) any { return st.roots[slot] }
	case *ast.MemberNode:
		if x.Optional || x.Method {
			return nil
		}
		base := fastCompile(x.Node, hs)
		if base == nil {
			return nil
		}
		if s, ok := x.Property.(*ast.StringNode); ok {
			prop := s.Value
			return func(st *evalState) any {
				v := base(st)
				if m, ok := v.(map[string]any); ok {
					return m[prop]
				}
				return runtime.Fetch(v, prop)
			}
		}
		idx := fastCompile(x.Property, hs)
		if idx == nil {
			return nil
		}
		return func(st *evalState) any { return runtime.Fetch(base(st), idx(st)) }
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok {
			return nil
		}
		h, ok := hs[id.Value]
		if !ok {
			return nil
		}
		args := make([]fnode, len(x.Arguments))
		for i, a := range x.Arguments {
			if args[i] = fastCompile(a, hs); args[i] == nil {
				return nil
			}
		}
		if h.stfn != nil {
			return stateCallNode(h.stfn, args)
		}
		if ns, ok := x.Arguments[0].(*ast.StringNode); ok && h.name == "uuid5" && len(args) == 2 && ns.Value != "" {
			// A constant namespace is resolved once.
			raw, name := namespaceBytes(ns.Value), args[1]
			return func(st *evalState) any {
				v, err := uuid5Name(raw, name(st))
				if err != nil {
					panic(err)
				}
				return v
			}
		}
		return callNode(h.fn, args)
	case *ast.BuiltinNode:
		i, ok := builtin.Index[x.Name]
		if !ok || x.Map != nil {
			return nil
		}
		b := builtin.Builtins[i]
		if b.Predicate {
			return nil
		}
		args := make([]fnode, len(x.Arguments))
		for i, a := range x.Arguments {
			if args[i] = fastCompile(a, hs); args[i] == nil {
				return nil
			}
		}
		if b.Fast != nil && len(args) == 1 {
			fast, a := b.Fast, args[0]
			return func(st *evalState) any { return fast(a(st)) }
		}
		if b.Safe != nil {
			// As the VM, bounded by its default memory budget.
			safe := b.Safe
			return callNode(func(args ...any) (any, error) {
				v, size, err := safe(args...)
				if err == nil && size > conf.DefaultMemoryBudget {
					err = fmt.Errorf("memory budget exceeded")
				}
				return v, err
			}, args)
		}
		if b.Func == nil {
			return nil
		}
		return callNode(b.Func, args)
	case *ast.UnaryNode:
		if x.Operator != "!" && x.Operator != "not" {
			return nil
		}
		inner := fastCompile(x.Node, hs)
		if inner == nil {
			return nil
		}
		return func(st *evalState) any { return !mustBool(inner(st), x.Operator) }
	case *ast.ConditionalNode:
		c, a, b := fastCompile(x.Cond, hs), fastCompile(x.Exp1, hs), fastCompile(x.Exp2, hs)
		if c == nil || a == nil || b == nil {
			return nil
		}
		return func(st *evalState) any {
			if mustBool(c(st), "?:") {
				return a(st)
			}
			return b(st)
		}
	case *ast.BinaryNode:
		l, r := fastCompile(x.Left, hs), fastCompile(x.Right, hs)
		if l == nil || r == nil {
			return nil
		}
		switch x.Operator {
		case "&&", "and":
			return andNode(l, r, x.Operator)
		case "||", "or":
			return func(st *evalState) any {
				if mustBool(l(st), x.Operator) {
					return true
				}
				return r(st)
			}
		case "==", "!=":
			neg := x.Operator == "!="
			// runtime.Equal(v, nil) is runtime.IsNil(v); skip its type
			// switch and reflection for the common scalar kinds.
			var other fnode
			if _, ok := x.Right.(*ast.NilNode); ok {
				other = l
			} else if _, ok := x.Left.(*ast.NilNode); ok {
				other = r
			}
			if other != nil {
				return func(st *evalState) any { return isNil(other(st)) != neg }
			}
			return func(st *evalState) any { return runtime.Equal(l(st), r(st)) != neg }
		case "in":
			if c, ok := x.Right.(*ast.ConstantNode); ok {
				if set, ok := c.Value.(map[string]struct{}); ok {
					return func(st *evalState) any {
						if s, ok := l(st).(string); ok {
							_, in := set[s]
							return in
						}
						return runtime.In(l(st), set)
					}
				}
			}
			return func(st *evalState) any { return runtime.In(l(st), r(st)) }
		case "not in":
			return func(st *evalState) any { return !runtime.In(l(st), r(st)) }
		}
	}
	return nil
}

// fastCompileStr returns an unboxed evaluation of a call of a helper that
// always yields text (text, valueType), or nil.
func fastCompileStr(n ast.Node, hs map[string]*helper) func(*evalState) string {
	c, ok := n.(*ast.CallNode)
	if !ok {
		return nil
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	h, ok := hs[id.Value]
	if !ok || h.str == nil || len(c.Arguments) != 1 {
		return nil
	}
	arg := fastCompile(c.Arguments[0], hs)
	if arg == nil {
		return nil
	}
	fn := h.str
	return func(st *evalState) string {
		s, err := fn(st, arg(st))
		if err != nil {
			panic(err)
		}
		return s
	}
}

// stateCallNode is callNode for helpers that use the evaluation state.
func stateCallNode(fn func(st *evalState, args ...any) (any, error), args []fnode) fnode {
	return func(st *evalState) any {
		mark := len(st.args)
		for _, a := range args {
			st.args = append(st.args, a(st))
		}
		v, err := fn(st, st.args[mark:]...)
		clear(st.args[mark:])
		st.args = st.args[:mark]
		if err != nil {
			panic(err)
		}
		return v
	}
}

// keyOnly reports whether n reads no variable but key (and so, helpers
// and builtins being pure, its value is a function of key).
func keyOnly(n ast.Node) bool {
	ok := true
	v := keyOnlyVisitor{ok: &ok}
	ast.Walk(&n, v)
	return ok
}

type keyOnlyVisitor struct{ ok *bool }

func (v keyOnlyVisitor) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if x.Value != "key" {
			*v.ok = false
		}
	case *ast.PointerNode, *ast.VariableDeclaratorNode:
		*v.ok = false
	}
}

// maxMemo bounds the keys a memo remembers.
const maxMemo = 4096

// keyMemo remembers the value of a key-only expression per map key
// (copy-on-write, so readers take no lock; concurrent inserts may lose
// one another, which only costs a re-evaluation).
type keyMemo struct {
	m atomic.Pointer[map[string]any]
}

// memoVal is one remembered result.
type memoVal struct{ v any }

// layoutMemo is a memo indexed by entry position in one key layout.
type layoutMemo struct {
	l    *keyLayout
	vals []atomic.Pointer[memoVal]
}

// memoNode evaluates inner once per distinct string key. While a map's
// entries come from a reused key layout (most records of a feed share
// their keys), results are found by entry position, without hashing the
// key; otherwise by key in a bounded map. Failures (panics) are not
// remembered; non-string keys (array elements) are not memoised.
func memoNode(inner fnode) fnode {
	memo := &keyMemo{}
	var byLayout atomic.Pointer[layoutMemo]
	return func(st *evalState) any {
		if l := st.curLayout; l != nil {
			lm := byLayout.Load()
			if lm == nil || lm.l != l {
				if !st.layoutReused {
					goto byKey
				}
				lm = &layoutMemo{l: l, vals: make([]atomic.Pointer[memoVal], len(l.names))}
				byLayout.Store(lm)
			}
			slot := &lm.vals[st.elemIndex]
			if mv := slot.Load(); mv != nil {
				return mv.v
			}
			v := inner(st)
			slot.Store(&memoVal{v})
			return v
		}
	byKey:
		k, ok := st.roots[rootKey].(string)
		if !ok {
			return inner(st)
		}
		cur := memo.m.Load()
		if cur != nil {
			if v, hit := (*cur)[k]; hit {
				return v
			}
		}
		v := inner(st)
		if cur == nil || len(*cur) < maxMemo {
			next := make(map[string]any, 1+lenMap(cur))
			if cur != nil {
				for ck, cv := range *cur {
					next[ck] = cv
				}
			}
			next[strings.Clone(k)] = v
			memo.m.Store(&next)
		}
		return v
	}
}

func lenMap(m *map[string]any) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// conjuncts flattens a chain of && into its operands, in order.
func conjuncts(n ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return append(conjuncts(b.Left), conjuncts(b.Right)...)
	}
	return []ast.Node{n}
}

// fastCompileElem compiles an expression of an each block: as
// fastCompile, but parts that depend only on key are memoised per key: the
// whole expression, or runs of consecutive key-only operands of a top-level
// && chain (kept in place, so short-circuiting and failures are exactly
// those of the plain evaluation).
func fastCompileElem(n ast.Node, hs map[string]*helper) fnode {
	plain := fastCompile(n, hs)
	if plain == nil {
		return nil
	}
	switch n.(type) {
	case *ast.IdentifierNode, *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode, *ast.ConstantNode:
		return plain
	}
	if keyOnly(n) {
		return memoNode(plain)
	}
	cs := conjuncts(n)
	if len(cs) < 2 {
		return plain
	}
	// Group consecutive key-only conjuncts.
	type group struct {
		nodes []ast.Node
		key   bool
	}
	var groups []group
	for _, c := range cs {
		k := keyOnly(c)
		if len(groups) > 0 && k && groups[len(groups)-1].key {
			groups[len(groups)-1].nodes = append(groups[len(groups)-1].nodes, c)
			continue
		}
		groups = append(groups, group{nodes: []ast.Node{c}, key: k})
	}
	parts := make([]fnode, len(groups))
	memoised := false
	for i, g := range groups {
		f := fastCompile(g.nodes[0], hs)
		for _, c := range g.nodes[1:] {
			f = andNode(f, fastCompile(c, hs), "&&")
		}
		if g.key && len(g.nodes) > 0 {
			f = memoNode(f)
			memoised = true
		}
		parts[i] = f
	}
	if !memoised {
		return plain
	}
	f := parts[0]
	for _, p := range parts[1:] {
		f = andNode(f, p, "&&")
	}
	return f
}

// andNode is the VM's &&: the left operand must be a bool, the right one
// is the result as it is.
func andNode(l, r fnode, op string) fnode {
	return func(st *evalState) any {
		if !mustBool(l(st), op) {
			return false
		}
		return r(st)
	}
}

// constNode returns v, boxed once at compile time.
func constNode(v any) fnode { return func(*evalState) any { return v } }

// callNode calls fn with the values of args, passed in the state's
// argument stack so a call does not allocate.
func callNode(fn func(args ...any) (any, error), args []fnode) fnode {
	return func(st *evalState) any {
		mark := len(st.args)
		for _, a := range args {
			st.args = append(st.args, a(st))
		}
		v, err := fn(st.args[mark:]...)
		clear(st.args[mark:])
		st.args = st.args[:mark]
		if err != nil {
			panic(err)
		}
		return v
	}
}

// isNil is runtime.IsNil with the decoded scalar kinds short-cut.
func isNil(v any) bool {
	switch v.(type) {
	case nil:
		return true
	case string, json.Number, bool, float64, int64, int, time.Time:
		return false
	}
	return runtime.IsNil(v)
}

// mustBool is the VM's boolean operand check.
func mustBool(v any, op string) bool {
	b, ok := v.(bool)
	if !ok {
		panic(fmt.Sprintf("invalid operation: %s on %T (want bool)", op, v))
	}
	return b
}
