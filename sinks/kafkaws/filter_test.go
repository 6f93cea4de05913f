package kafkaws

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/telebridge/telebridge/codec"
)

// The expected results below come from reading dojot's kafka-ws
// (subscription-engine/kafka-ws in dojot/dojot): app/WhereProcessing
// Grammar.ne, Lexer.js, WhereParser.js, OperatorValidator.js, app/Utils.js,
// app/Conditions/Conditions.js and ConditionApplier.js (with flat 5),
// app/ProcessingRule/ProcessingRule.js and the send decision in
// app/WSServer.js, and json-mask 1.0.4. Each test names the file its class
// of behaviour comes from.

func mustJSON(t testing.TB, s string) any {
	t.Helper()
	v, err := codec.DecodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("test message %s: %v", s, err)
	}
	return v
}

func mustJSONAny(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("test message %s: %v", s, err)
	}
	return v
}

// sendCase is one message through where and fields: want is the frame
// sent, or "" when nothing is sent.
type sendCase struct {
	where, fields, msg, want string
}

func runSendCases(t *testing.T, cases []sendCase) {
	t.Helper()
	for _, c := range cases {
		w, err := ParseWhere(c.where)
		if err != nil {
			t.Errorf("ParseWhere(%q): %v", c.where, err)
			continue
		}
		f, err := ParseFields(c.fields)
		if err != nil {
			t.Errorf("ParseFields(%q): %v", c.fields, err)
			continue
		}
		out, sent := filterMessage(w, f, mustJSONAny(t, c.msg))
		got := ""
		if sent {
			b, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		want := c.want
		if want != "" {
			b, _ := json.Marshal(mustJSONAny(t, want))
			want = string(b)
		}
		if got != want {
			if want == "" {
				want = "nothing"
			}
			t.Errorf("where %q fields %q on %s: sent %s, want %s", c.where, c.fields, c.msg, orNothing(got), want)
		}
	}
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

type errCase struct {
	where string
	code  websocket.StatusCode
}

func runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		_, err := ParseWhere(c.where)
		if c.code == 0 {
			if err != nil {
				t.Errorf("ParseWhere(%q): %v, want it accepted", c.where, err)
			}
			continue
		}
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseWhere(%q) = %v, want close code %d", c.where, err, c.code)
			continue
		}
		if fe.Code != c.code {
			t.Errorf("ParseWhere(%q) = %d (%s), want %d", c.where, fe.Code, fe.Msg, c.code)
		}
		if r := fe.CloseReason(); len(r) > maxReason || !strings.HasPrefix(r, CodeName(fe.Code)+": where at ") {
			t.Errorf("close reason %q: too long or badly prefixed", r)
		}
	}
}

// Grammar.ne: a condition without an operator gets operator 'eq'; "eq" is
// in Utils.js operators, so writing it is the same.
func TestWhereExplicitEq_GrammarNe(t *testing.T) {
	runErrCases(t, []errCase{{"ab=eq:5;", 0}, {"ab=5;", 0}, {"ab=eq:5;cd=eq:-1.5;", 0}})
	runSendCases(t, []sendCase{
		{"ab=eq:5;", "", `{"ab":5}`, `{"ab":5}`},
		{"ab=5;", "", `{"ab":5}`, `{"ab":5}`},
		{"ab=eq:5;", "", `{"ab":6}`, ""},
		{"ab=eq:5.0;", "", `{"ab":5}`, `{"ab":5}`},
	})
}

// Lexer.js parameter: /[a-zA-Z0-9 _-]+[.[a-zA-Z0-9 _-]+]*=/. Spaces, '_',
// '-', '.', '[' and trailing ']' belong to the selector, nothing is trimmed,
// and it names a key of the flattened message exactly. (dojot's regex needs
// two characters; one-character selectors are accepted here, see README.)
func TestWhereSelectors_LexerJs(t *testing.T) {
	runErrCases(t, []errCase{
		{"my sensor.temp=lt:3;", 0},
		{"attrs. brake signal 1 =gte:0.0;", 0},
		{"x-y_z=1;", 0},
		{"ab[0]=1;", 0},
		{"ab[0]]=1;", 0},
		{"ab.=1;", 0},
		{"a=1;", 0},            // documented grammar; dojot's regex refuses it
		{".ab=1;", 4000},       // must start with [a-zA-Z0-9 _-]
		{"a$b=1;", 4000},       // '$' is no selector character
		{"ab]c=1;", 4000},      // ']' only before '='
		{"ab=cd=5;", 4000},     // "cd=" lexes as a second selector
		{"sensor.é=1;", 4000},  // ASCII only
		{"ab=1;cd=2;", 0},      // several conditions
		{"ab=1;ab=lt:3;", 0},   // several on one selector
		{"AB0 _-=in:x;", 0},    // every first character
		{"ab..cd=1;", 0},       // empty path parts are just characters
		{"ab=1;;", 4000},       // a lone ';' does not lex
		{"ab=1;cd", 4000},      // trailing text
		{"ab", 4000},           // no '='
		{"ab=", 4000},          // nothing after the selector
		{"ab=in:", 4000},       // nothing after the operator
		{"", 0},                // no condition
		{"ab=x\ny;", 4000},     // '.' in the values rule stops at line ends
		{"ab=x\u2028y;", 4000}, // JavaScript line separator too
		{"ab=x\ty;", 4004},     // a tab is an ordinary character
		{"in=in:x;", 0},        // a selector may spell an operator
		{"ab=http://x;", 4001}, // "http:" lexes as an operator
		{"ab=in:a=b;", 0},      // after the operator "a=" is too short for a selector: the value "a=b"
		{"ab=in:1=2;", 0},      // ... "1=2" does not (one character)
		{"ab=in:x=y=z;", 0},    // values may hold '=' after their first character
		{"ab=in:xy=2;", 4000},  // "xy=" is a selector
		{"ab=;;", 4004},        // the values token is ";;", the value ";"
		{"ab= ;", 0},           // blank counts as 0
		{"ab=in: ;", 0},        // a space is a value
		{"  =1;", 0},           // spaces alone make a selector
		{"ab=:x;", 4004},       // ":" starts no operator, "eq" gets ":x"
		{"ab=GT:1;", 4004},     // upper-case is no operator: eq with "GT:1"
		{"ab=In:x;", 4004},     // likewise
		{"ab=foo:1;", 4001},    // unknown operator
		{"ab=nin:x;cd=bool:1;", 0},
	})
	msg := `{"my sensor":{"temp":2},"attrs":{" brake signal 1 ":0.5,"brake":1},"x-y_z":7,"ab[0]":1,"ab":[5,6],"in":"min"}`
	runSendCases(t, []sendCase{
		{"my sensor.temp=lt:3;", "", msg, msg},
		{"attrs. brake signal 1 =gte:0.0;", "", msg, msg},
		{"attrs.brake signal 1=gte:0.0;", "", msg, ""}, // not trimmed
		{"x-y_z=7;", "", msg, msg},
		{"ab[0]=1;", "", msg, msg}, // the key "ab[0]", not an index
		{"ab.1=6;", "", msg, msg},  // array elements are ab.0, ab.1
		{"ab=5;", "", msg, ""},     // "ab" itself is no key once flattened
		{"in=in:^m;", "", msg, msg},
	})
}

// WhereParser.js separateValues/escapeString and Utils.js escapeChars:
// escapes exist only inside double quotes; \b \f \n \r \t are control
// characters, another letter is 4002, any other character stands for
// itself. Unquoted text keeps its backslashes (they reach the RegExp).
func TestWhereQuotedEscapes_WhereParserJs(t *testing.T) {
	runErrCases(t, []errCase{
		{`ab=in:"a\nb";`, 0},
		{`ab=in:"a\tb","\r\f\b";`, 0},
		{`ab=in:"a\qb";`, 4002},
		{`ab=in:"a\Nb";`, 4002},
		{`ab=in:"a\,b";`, 0},
		{`ab=in:a\qb;`, 0}, // unquoted: no escape processing
		{`ab=gt:"\q";`, 4002},
		{`ab=in:"\q";cd=gt:1,2;`, 4002},
	})
	msg := `{"ab":"a\nb","cd":"a\tb","ef":"x,y","gh":"xq","ij":"say \"hi\"","kl":"a\\nb"}`
	runSendCases(t, []sendCase{
		{`ab=in:"a\nb";`, "ab", msg, `{"ab":"a\nb"}`},
		{`ab=in:a\nb;`, "ab", msg, `{"ab":"a\nb"}`}, // unquoted \n: the RegExp's own escape
		{`kl=in:"a\nb";`, "kl", msg, ""},            // backslash-n text is not a newline
		{`cd=in:"a\tb";`, "cd", msg, `{"cd":"a\tb"}`},
		{`ef=in:"x,y";`, "ef", msg, `{"ef":"x,y"}`}, // a quoted comma is no separator
		{`ef=in:x,y;`, "ef", msg, `{"ef":"x,y"}`},   // two values, "x" matches
		{`gh=in:x\q;`, "gh", msg, `{"gh":"xq"}`},    // RegExp /x\q/ is "xq"
		{`ij=in:"\"hi\"";`, "ij", msg, `{"ij":"say \"hi\""}`},
		{`ab=nin:"zz",a;`, "ab", msg, ""},
	})
}

// Utils.js isNumber: a value for gt, gte, lt, lte, eq and neq is anything
// JavaScript's Number() turns into a finite number. Conditions.js compares
// Number(field); a field whose Number() is not finite fails every numeric
// operator (neq included: dojot's NaN !== n would send it, see README).
func TestWhereNumbers_UtilsJs(t *testing.T) {
	runErrCases(t, []errCase{
		{"ab=gte:0x10;", 0}, {"ab=gte:0X1f;", 0}, {"ab=gte:0o17;", 0}, {"ab=gte:0b101;", 0},
		{"ab=gte:1e3;", 0}, {"ab=gte:+5;", 0}, {"ab=gte:.5;", 0}, {"ab=gte:5.;", 0},
		{"ab=gte: ;", 0}, {"ab=gte: 7 ;", 0}, {"ab=gte:-0;", 0}, {"ab=gte:1e-400;", 0},
		{"ab=gte:x;", 4004}, {"ab=gte:Infinity;", 4004}, {"ab=gte:-Infinity;", 4004},
		{"ab=gte:-0x10;", 4004}, {"ab=gte:1e400;", 4004}, {"ab=gte:1_000;", 4004},
		{"ab=gte:0x;", 4004}, {"ab=gte:5e;", 4004}, {"ab=gte:..5;", 4004}, {"ab=gte:NaN;", 4004},
		{"ab=neq:abc;", 4004}, {"ab=fleet-01;", 4004}, {`ab=lt:"5";`, 0},
		{"ab=gt:1,2;", 4003}, {"ab=1,2;", 4003}, {"ab=neq:,;", 4003},
	})
	msg := `{"n":16,"hex":"0x10","sp":" 7 ","t":true,"f":false,"z":0,"zs":"0","e":"","nl":null,"txt":"hot","inf":"Infinity","big":9007199254740993,"ea":[],"eo":{},"neg":-3,"flt":"12.5"}`
	keep := func(where string) sendCase { return sendCase{where, "n", msg, `{"n":16}`} }
	drop := func(where string) sendCase { return sendCase{where, "n", msg, ""} }
	runSendCases(t, []sendCase{
		keep("n=gte:0x10;"), keep("n=16;"), keep("n=1.6e1;"), keep("n=neq:15;"), drop("n=neq:16;"),
		keep("hex=16;"), keep("hex=gt:15.5;"), // Number("0x10") is 16
		keep("sp=7;"),                 // Number(" 7 ") is 7
		keep("t=1;"), keep("t=gt:0;"), // Number(true) is 1
		drop("f=0;"), drop("f=neq:1;"), // false is falsy: fails
		keep("z=0;"), keep("z=lt:1;"), keep("z=neq:1;"), // 0 is a number (dojot drops it, see README)
		keep("zs=0;"), // "0" is truthy in dojot too
		drop("e=0;"), drop("e=neq:1;"), drop("nl=0;"), drop("nl=neq:1;"),
		drop("txt=neq:20;"), drop("txt=lt:1;"), drop("inf=gt:1;"), drop("inf=neq:1;"),
		drop("missing=neq:1;"), drop("missing=lt:1;"),
		keep("big=9007199254740992;"), // doubles, as in JavaScript
		keep("ea=0;"),                 // an empty array stays a leaf; Number([]) is 0
		drop("eo=neq:1;"),             // Number({}) is NaN
		keep("neg=lt:-2.5;"), keep("flt=gt:12;"), keep("flt=lte:12.5;"), drop("flt=gt:12.5;"),
		keep("n=gt: ;"), // blank is 0
	})
}

// Conditions.js applyIn/applyNin: every value is a RegExp (unanchored,
// case-sensitive) tried on String(field); a missing, null, 0, false or ""
// field never passes in and always passes nin. A value JavaScript refuses
// as a RegExp throws when reached, so the message is not sent.
func TestWhereInNin_ConditionsJs(t *testing.T) {
	runErrCases(t, []errCase{
		{"bb=in:ar;", 0}, {"bb=in:(;", 0}, {"bb=in:a(?=b);", 4004}, {"bb=in:a(?<=b);", 4004}, {`bb=in:[\S];`, 4004}, {`bb=in:[\s\d];`, 0}, {`bb=in:(a)\1;`, 4004},
		{"st=nin:;", 4000}, {"bb=in:x,,y;", 0},
	})
	msg := `{"bb":"bar","n":10.5,"big":1e21,"tiny":1e-7,"z":0,"f":false,"t":true,"e":"","nl":null,"ea":[],"eo":{},"ml":"a\nb","sp":"a b"}`
	keep := func(where string) sendCase { return sendCase{where, "bb", msg, `{"bb":"bar"}`} }
	drop := func(where string) sendCase { return sendCase{where, "bb", msg, ""} }
	runSendCases(t, []sendCase{
		keep("bb=in:ar;"), keep("bb=in:^bar$;"), keep("bb=in:x,b.r;"), keep("bb=in:x|bar;"),
		drop("bb=in:AR;"), drop("bb=in:^ar;"), keep("bb=nin:AR;"), drop("bb=nin:ar;"),
		keep("n=in:^10\\.5$;"), keep("big=in:^1e\\+21$;"), keep("tiny=in:^1e-7$;"), keep("t=in:^true$;"),
		drop("z=in:0;"), keep("z=nin:0;"), drop("f=in:false;"), keep("f=nin:false;"),
		drop("e=in:;x;"), drop("nl=in:null;"), keep("nl=nin:null;"), drop("missing=in:x;"), keep("missing=nin:x;"),
		keep("ea=in:^$;"),                   // String([]) is ""
		keep("eo=in:object Object;"),        // String({})
		keep("bb=in:x,,y;"),                 // an empty value matches anything
		drop("bb=in:(;"), drop("bb=nin:(;"), // invalid RegExp: throws
		keep("bb=in:ar,(;"), // ... unless an earlier value matched
		drop("ml=in:a.b;"), keep("ml=in:a\\sb;"), keep("sp=in:a\\sb;"), keep("ml=in:a[^]b;"),
		keep("bb=in:\\x62ar;"), keep("bb=in:[\\w]{3};"), keep("bb=in:b{1}a;"), drop("bb=in:b{;"), keep("bb=nin:b{;"), // Annex B: "b{" is literal
	})
}

// Utils.js parseBoolean/isBoolean (OperatorValidator.js for the value,
// Conditions.js applyBool for the field): true/false/1/0, any case,
// trimmed. A field that does not parse drops the message.
func TestWhereBool_UtilsJs(t *testing.T) {
	runErrCases(t, []errCase{
		{"ab=bool:TRUE;", 0}, {"ab=bool: true ;", 0}, {"ab=bool:1;", 0}, {"ab=bool:False;", 0}, {"ab=bool:0;", 0},
		{"ab=bool:yes;", 4004}, {"ab=bool: ;", 4004}, {"ab=bool:2;", 4004}, {"ab=bool:1,0;", 4003}, {"ab=bool:;", 4000},
	})
	msg := `{"t":true,"f":false,"one":1,"zero":0,"s":" TRUE ","two":2,"x":"yes","nl":null,"ea":[]}`
	keep := func(where string) sendCase { return sendCase{where, "t", msg, `{"t":true}`} }
	drop := func(where string) sendCase { return sendCase{where, "t", msg, ""} }
	runSendCases(t, []sendCase{
		keep("t=bool:TRUE;"), drop("t=bool:false;"), keep("f=bool:0;"), keep("one=bool:true;"), keep("zero=bool:false;"),
		keep("s=bool:1;"), drop("two=bool:true;"), drop("two=bool:false;"), drop("x=bool:false;"),
		drop("nl=bool:false;"), drop("missing=bool:false;"), drop("ea=bool:false;"),
	})
}

// WhereParser.js: nearley feeds the whole text through the lexer first
// (4000 for what does not lex or parse, 4001 for an unknown operator, in
// text order), then processCondition runs on each condition left to right:
// escapes (4002), then arity, then the value's type (OperatorValidator.js:
// 4003 before 4004). The first error wins.
func TestWhereErrorPrecedence_WhereParserJs(t *testing.T) {
	runErrCases(t, []errCase{
		{"ab=gte:x;cd=gt:1,2;", 4004},
		{"ab=gt:1,2;cd=gte:x;", 4003},
		{"ab=gte:x,y;", 4003},
		{`ab=in:"\q";cd=gt:1,2;`, 4002},
		{`ab=gt:"\q",2;`, 4002},
		{"ab=gte:x;cd=foo:1;", 4001},
		{"ab=foo:1;cd=gte:x", 4001},
		{"ab=gte:x;cd=1", 4000},
		{"ab=cd=1;ef=foo:1;", 4000},
		{"temperature=eq:;", 4000},
		{"st=nin:;", 4000},
		{"ab=bool:x;cd=in:\"\\q\";", 4004},
	})
}

// json-mask 1.0.4 (lib/compiler.js, lib/filter.js), applied last by
// ProcessingRule.js.
func TestFieldsJSONMask_104(t *testing.T) {
	ref := `{"attrs":{"temperature":20,"rain":10.5},"metadata":{"tenant":"admin"}}`
	runSendCases(t, []sendCase{
		// The reference examples.
		{"", "attrs,metadata", ref, ref},
		{"", "metadata/tenant", ref, `{"metadata":{"tenant":"admin"}}`},
		{"", "attrs(temperature,rain)", ref, `{"attrs":{"rain":10.5,"temperature":20}}`},
		{"", "attrs/*", ref, `{"attrs":{"rain":10.5,"temperature":20}}`},
		{"", "attrs/humidity", ref, `{"attrs":{}}`},
		{"", "*/tenant", ref, `{"attrs":{},"metadata":{"tenant":"admin"}}`},
		// Nothing selected: an empty object, which is not sent.
		{"", "nothing", ref, ""},
		{"", "nothing/deeper", ref, ""},
		{"", ",", ref, ""},
		// A later selection of a name replaces an earlier one.
		{"", "attrs/rain,attrs/temperature", ref, `{"attrs":{"temperature":20}}`},
		{"", "attrs/rain,attrs", ref, `{"attrs":{"rain":10.5,"temperature":20}}`},
		{"", "attrs,attrs/rain", ref, `{"attrs":{"rain":10.5}}`},
		{"", "attrs/rain,*", ref, ref},
		{"", "*,attrs/rain", ref, `{"attrs":{"rain":10.5},"metadata":{"tenant":"admin"}}`},
		// No escapes, no errors: everything else is part of a name.
		{"", `a b,c\`, `{"a b":1,"c\\":2,"d":3}`, `{"a b":1,"c\\":2}`},
		{"", "te*mp", `{"te*mp":1,"temp":2}`, `{"te*mp":1}`},
		{"", "attrs(rain", ref, `{"attrs":{"rain":10.5}}`},
		{"", "attrs)", ref, `{"attrs":{"rain":10.5,"temperature":20}}`},
		{"", "/attrs,metadata", ref, `{"attrs":{"rain":10.5,"temperature":20}}`},
		// Arrays: the selection applies to each element; a primitive under
		// a sub-selection is dropped, but null, 0, false and "" are kept.
		{"", "data/v", `{"data":[{"v":1,"x":2},{"v":3},{"x":4},5,"s",null,0,false,""]}`, `{"data":[{"v":1},{"v":3},{},null,0,false,""]}`},
		{"", "data(v)", `{"data":[{"v":1,"x":2}]}`, `{"data":[{"v":1}]}`},
		{"", "data/v", `{"data":[5,6],"x":1}`, ""},                                // no element left: data is left out
		{"", "data/v,x", `{"data":[5,6],"x":1}`, `{"x":1}`},                       // ...
		{"", "data/v", `{"data":[]}`, `{"data":[]}`},                              // an empty array stays
		{"", "a/v", `{"a":[[{"v":1,"x":2},{"v":3}],[{"x":1}]]}`, `{"a":[[],[]]}`}, // nested arrays element-wise
		{"", "a/0", `{"a":[[10,11],[12]]}`, `{"a":[[10],[12]]}`},
		{"", "a/x", `{"a":5}`, ""},
		{"", "a/x", `{"a":0}`, `{"a":0}`},
		{"", "a/x,b/x", `{"a":null,"b":"s"}`, `{"a":null}`},
		// A top-level array message is masked per element.
		{"", "a", `[{"a":1,"b":2},{"b":3},7,null]`, `[{"a":1},{},null]`},
		{"", "a", `[7,8]`, ""},
		{"", "", `[7,8]`, `[7,8]`},
	})
	if f, err := ParseFields(""); f != nil || err != nil {
		t.Errorf("ParseFields(\"\") = %v, %v; want nil, nil", f, err)
	}
}

// telebridge's limits on `fields`: 8 KiB and 32 levels (json-mask has none).
func TestFieldsLimits(t *testing.T) {
	for _, s := range []string{strings.Repeat("a,", 4097), strings.Repeat("a/", 40) + "a", strings.Repeat("a(", 40)} {
		_, err := ParseFields(s)
		var fe *FilterError
		if !errors.As(err, &fe) || fe.Code != CodeInvalidSyntax || fe.Param != "fields" {
			t.Errorf("ParseFields(%.20q...) = %v, want a 4000 fields error", s, err)
		}
	}
	if _, err := ParseFields(strings.Repeat("a/", 30) + "a"); err != nil {
		t.Errorf("30 levels: %v", err)
	}
}

// ConditionApplier.js: with at least one condition the message is flattened
// (flat 5), the condition reads the exact flattened key, and the message
// is rebuilt with flat.unflatten: dotted keys become nested objects and
// numeric parts make arrays.
func TestWhereFlattening_ConditionApplierJs(t *testing.T) {
	runSendCases(t, []sendCase{
		{"arr.0=1;", "", `{"arr":[1,2]}`, `{"arr":[1,2]}`},
		{"arr.1.k=in:x;", "", `{"arr":[1,{"k":"x"}]}`, `{"arr":[1,{"k":"x"}]}`},
		{"arr=in:1;", "", `{"arr":[1,2]}`, ""},
		{"a.b=1;", "", `{"a.b":1,"c":2}`, `{"a":{"b":1},"c":2}`}, // rebuilt: the dotted key nests
		{"a.b=1;", "", `{"a":{"b":1}}`, `{"a":{"b":1}}`},
		{"c=2;", "", `{"o":{"1":"x","2":"y"},"c":2}`, `{"o":[null,"x","y"],"c":2}`}, // numeric keys: an array
		{"c=2;", "", `{"o":{"01":"x"},"c":2}`, `{"o":[null,"x"],"c":2}`},            // Number("01") is 1
		{"c=2;", "", `{"o":{},"e":[],"c":2}`, `{"o":{},"e":[],"c":2}`},              // empty ones stay
		{"c=2;", "", `{"n":null,"n.x":1,"c":2}`, `{"n":null,"c":2}`},                // no write over a primitive
		{"c=2;", "", `[{"a":1},{"c":2}]`, ""},                                       // top level "0", "1": no key "c"
		{"1.c=2;", "", `[{"a":1},{"c":2}]`, `{"0":{"a":1},"1":{"c":2}}`},            // rebuilt as an object
		{"c=2;", "o/1", `{"o":{"1":"x"},"c":2}`, ""},                                // fields then sees an array with a hole and "x"
		{"c=2;", "", `{"o":{"1":"x"},"c":2}`, `{"o":[null,"x"],"c":2}`},             // the hole is null in JSON
		{"c=2;", "o", `{"o":{"1":"x"},"c":2}`, `{"o":["x"]}`},                       // json-mask skips it
		{"c=2;", "o/a", `{"o":{"1":{"a":1,"b":2}},"c":2}`, `{"o":[{"a":1}]}`},       // ... and dropped by the mask
		{"c=2;", "", `{}`, ""},
		{"", "", `{}`, ""}, // an empty object is never sent
		{"c=2;", "c", `{"c":2,"d":1}`, `{"c":2}`},
	})
}

// ProcessingRule.js: the conditions run first, in order, then the mask;
// WSServer.js sends the result unless it is empty.
func TestFilterOrder_ProcessingRuleJs(t *testing.T) {
	runSendCases(t, []sendCase{
		{"sensor.status=in:failed,stopped;", "sensor/status,temperature", `{"sensor":{"status":"failed","id":3},"temperature":35,"x":1}`, `{"sensor":{"status":"failed"},"temperature":35}`},
		{"temperature=gte:5.0;temperature=lt:10.0;", "", `{"temperature":7}`, `{"temperature":7}`},
		{"temperature=gte:5.0;temperature=lt:10.0;", "", `{"temperature":12}`, ""},
		{"rain=11;", "", `{"rain":10}`, ""},
		{"rain=neq:11;", "", `{"rain":10}`, `{"rain":10}`},
		{"rain=gt:10;", "", `{"rain":10}`, ""},
		{"rain=gte:10;", "", `{"rain":10}`, `{"rain":10}`},
		{"rain=gte:10;", "humidity", `{"rain":10}`, ""}, // the mask leaves nothing
		{"x=1;", "rain", `{"rain":10}`, ""},
	})
}

// Avro values decode to int64, float64, bool, nil, maps and slices.
func TestWhereTypedAvroValues(t *testing.T) {
	v := map[string]any{"id": int64(7), "speed": 12.5, "moving": true, "meta": map[string]any{"src": "tu", "n": nil}, "arr": []any{int64(1), int64(2)}}
	for where, keep := range map[string]bool{
		"id=7;": true, "id=7.0;": true, "id=gt:6;": true, "speed=lte:12.5;": true, "speed=gt:12.5;": false,
		"moving=bool:1;": true, "moving=1;": true, "meta.src=in:^tu$;": true, "meta.n=nin:x;": true, "arr.1=2;": true, "arr.1=3;": false,
		"id=in:^7$;": true, "speed=in:^12\\.5$;": true,
	} {
		w, err := ParseWhere(where)
		if err != nil {
			t.Fatalf("%q: %v", where, err)
		}
		if _, got := w.Apply(v); got != keep {
			t.Errorf("where %q on Avro value: keep=%v, want %v", where, got, keep)
		}
	}
}

func TestWhereLimits(t *testing.T) {
	runErrCases(t, []errCase{
		{strings.Repeat("ab=1;", 65), CodeInvalidSyntax},
		{strings.Repeat("ab=1;", 64), 0},
		{"ab=in:" + strings.Repeat("x,", 256) + "x;", CodeInvalidArity},
		{"ab=in:" + strings.Repeat("x", maxWhereLen) + ";", CodeInvalidSyntax},
	})
}

func TestJSNumberString(t *testing.T) {
	for f, want := range map[float64]string{
		10: "10", 10.5: "10.5", 1e21: "1e+21", 1e20: "100000000000000000000", 1e-7: "1e-7", 1.5e-7: "1.5e-7",
		0.000001: "0.000001", -3: "-3", 0.1: "0.1", 123456789012345680000: "123456789012345680000", 2.5e300: "2.5e+300",
	} {
		if got := jsNumberString(f); got != want {
			t.Errorf("String(%v) = %q, want %q", f, got, want)
		}
	}
}

func closeCodes() []websocket.StatusCode {
	return []websocket.StatusCode{CodeInvalidSyntax, CodeInvalidOperator, CodeInvalidEscape, CodeInvalidArity, CodeInvalidValue}
}

func checkFilterErr(t *testing.T, in string, err error) {
	if err == nil {
		return
	}
	var fe *FilterError
	if !errors.As(err, &fe) {
		t.Fatalf("%q: error %v is not a *FilterError", in, err)
	}
	ok := false
	for _, c := range closeCodes() {
		ok = ok || c == fe.Code
	}
	if !ok {
		t.Fatalf("%q: code %d is not a filter close code", in, fe.Code)
	}
	if len(fe.CloseReason()) > maxReason {
		t.Fatalf("%q: close reason longer than %d bytes", in, maxReason)
	}
}

func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{"sensor.status=in:failed,stopped;", "temperature=gte:5.0;temperature=lt:10.0;", `ab=in:"x\,y";`, "ab=bool:1;", "ab.0.b=neq:;", "ab=in:;", "x=\\", "é=1;", "ab=in:(a|b)*c{2,3}[^x-z]\\d;"} {
		f.Add(s)
	}
	msg := mustJSON(f, `{"a":[1,"x",{"b":true}],"sensor":{"status":"failed"},"temperature":7,"x":null,"o":{"1":2,"a.b":3}}`)
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWhere(s)
		checkFilterErr(t, s, err)
		if err == nil {
			if out, ok := w.Apply(msg); ok {
				if _, err := json.Marshal(out); err != nil {
					t.Fatalf("%q: result does not encode: %v", s, err)
				}
			}
		}
	})
}

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"a,b", "a/b/c", "a(b,c)", "a/*/c", "*", `a\,b`, "a(b(c/d),e)", "a(", "/a", ")(,"} {
		f.Add(s)
	}
	msg := mustJSON(f, `{"a":{"b":{"c":1},"x":[{"c":2},3,null,[4]]},"c":"d"}`)
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFields(s)
		checkFilterErr(t, s, err)
		if err == nil {
			if out, ok := fl.Apply(msg); ok {
				if _, err := json.Marshal(out); err != nil {
					t.Fatalf("%q: result does not encode: %v", s, err)
				}
			}
		}
	})
}

// dojotLexerModel is an independent model of dojot's where lexer and
// grammar (Lexer.js's three moo rules as regular expressions, tried in
// order at each position; Grammar.ne's condition = parameter operator?
// values), with the one documented difference (a one-character selector
// where a condition starts).
// It returns 0 when the text lexes and parses, else 4000 or 4001, and the
// number of conditions.
var (
	modelParam      = regexp.MustCompile(`^[a-zA-Z0-9 _-][.\[a-zA-Z0-9 _-]+\]*=`)
	modelShortParam = regexp.MustCompile(`^[a-zA-Z0-9 _-]\]*=`)
	modelOp         = regexp.MustCompile(`^[a-z]+:`)
	modelVals       = regexp.MustCompile(`^[^\n\r\x{2028}\x{2029}]+?;`)
	modelOps        = map[string]bool{"gt": true, "gte": true, "lt": true, "lte": true, "eq": true, "neq": true, "in": true, "nin": true, "bool": true}
)

func dojotLexerModel(s string) (code, conds int) {
	var kinds []string
	for rest := s; rest != ""; {
		switch {
		case modelParam.MatchString(rest):
			m := modelParam.FindString(rest)
			kinds, rest = append(kinds, "p"), rest[len(m):]
		case modelShortParam.MatchString(rest) && regexp.MustCompile(`^(po?v)*$`).MatchString(strings.Join(kinds, "")):
			m := modelShortParam.FindString(rest)
			kinds, rest = append(kinds, "p"), rest[len(m):]
		case modelOp.MatchString(rest):
			m := modelOp.FindString(rest)
			if !modelOps[m[:len(m)-1]] {
				return 4001, 0
			}
			kinds, rest = append(kinds, "o"), rest[len(m):]
		case modelVals.MatchString(rest):
			m := modelVals.FindString(rest)
			kinds, rest = append(kinds, "v"), rest[len(m):]
		default:
			return 4000, 0
		}
		// Grammar: reject as soon as the token sequence cannot continue.
		if !regexp.MustCompile(`^(po?v)*(p|po)?$`).MatchString(strings.Join(kinds, "")) {
			return 4000, 0
		}
	}
	seq := strings.Join(kinds, "")
	if !regexp.MustCompile(`^(po?v)*$`).MatchString(seq) {
		return 4000, 0
	}
	return 0, strings.Count(seq, "v")
}

// FuzzWhereMatchesDojotLexer compares ParseWhere's accept/reject decision
// with dojotLexerModel: lexer and grammar errors must agree in code, and
// whatever the model accepts ParseWhere either accepts with as many
// conditions or refuses for a value (4002-4004).
func FuzzWhereMatchesDojotLexer(f *testing.F) {
	for _, s := range []string{"ab=eq:5;", "my sensor.temp=lt:3;", "ab=cd=5;", "ab=;;", "temperature=eq:;", "ab=GT:1;", "ab=foo:1;cd", "ab=in:a=b;", "ab[0]]=1;", "a=1;", "ab=x\ny;", "ab=1;;", `ab=in:"x\q";`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxWhereLen || strings.Count(s, ";") > maxConditions {
			return // telebridge's own limits
		}
		want, conds := dojotLexerModel(s)
		w, err := ParseWhere(s)
		var fe *FilterError
		got := websocket.StatusCode(0)
		if errors.As(err, &fe) {
			got = fe.Code
		} else if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		switch {
		case want != 0:
			if got != websocket.StatusCode(want) {
				t.Fatalf("%q: ParseWhere gives %d, dojot's lexer %d", s, got, want)
			}
		case got == CodeInvalidSyntax || got == CodeInvalidOperator:
			t.Fatalf("%q: ParseWhere gives %d (%s), dojot's lexer accepts", s, got, fe.Msg)
		case got == 0 && w.Len() != conds:
			t.Fatalf("%q: %d conditions, dojot's lexer %d", s, w.Len(), conds)
		}
	})
}
