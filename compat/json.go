package compat

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// maxDepth bounds the nesting of JSON arrays and objects in a schema
// document, so that hostile input cannot exhaust the stack.
const maxDepth = 256

// jkind is the kind of a JSON value.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

func (k jkind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "an array", "an object"}[k]
}

// jval is a parsed JSON value that remembers where it started in the
// document, so that schema errors and findings can name a line and column.
type jval struct {
	off   int // byte offset of the value's first byte
	kind  jkind
	b     bool
	str   string // string value, or number text
	keys  []string
	vals  []*jval
	elems []*jval
}

// get returns the member k of an object, or nil.
func (v *jval) get(k string) *jval {
	for i, key := range v.keys {
		if key == k {
			return v.vals[i]
		}
	}
	return nil
}

// jsonParser builds a jval tree from encoding/json tokens.
type jsonParser struct {
	data []byte
	dec  *json.Decoder
}

// parseJSON parses one JSON document. Syntax errors come back as a
// *ParseError carrying the offset of the problem; duplicate object keys and
// trailing data are errors too.
func parseJSON(data []byte, lines *lineIndex) (*jval, error) {
	p := &jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	v, err := p.value(0)
	if err != nil {
		return nil, p.wrap(err, lines)
	}
	off := p.start()
	if _, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, p.wrap(err, lines)
		}
		return nil, lines.errorAt(off, "", "unexpected data after the schema document")
	}
	return v, nil
}

func (p *jsonParser) wrap(err error, lines *lineIndex) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		if pe.Line == 0 {
			pe.Line, pe.Column = lines.position(pe.Offset)
		}
		return pe
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		// The decoder's Offset is that of the offending byte.
		off := int(se.Offset)
		return lines.errorAt(off, "", "invalid JSON: "+se.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return lines.errorAt(len(p.data), "", "invalid JSON: unexpected end of the document")
	}
	return lines.errorAt(p.start(), "", "invalid JSON: "+err.Error())
}

// start returns the offset of the next token: the decoder's offset moved
// past white space and the ':' or ',' separators it has not consumed yet.
func (p *jsonParser) start() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

func (p *jsonParser) value(depth int) (*jval, error) {
	off := p.start()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	return p.fromToken(tok, off, depth)
}

func (p *jsonParser) fromToken(tok json.Token, off, depth int) (*jval, error) {
	v := &jval{off: off}
	switch t := tok.(type) {
	case nil:
		v.kind = jNull
	case bool:
		v.kind, v.b = jBool, t
	case json.Number:
		v.kind, v.str = jNumber, string(t)
	case string:
		v.kind, v.str = jString, t
	case json.Delim:
		if depth >= maxDepth {
			return nil, &ParseError{Offset: off, Msg: fmt.Sprintf("schema nests deeper than %d levels", maxDepth)}
		}
		switch t {
		case '[':
			v.kind = jArray
			for p.dec.More() {
				e, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.elems = append(v.elems, e)
			}
			if _, err := p.dec.Token(); err != nil { // ]
				return nil, err
			}
		case '{':
			v.kind = jObject
			for p.dec.More() {
				koff := p.start()
				kt, err := p.dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, &ParseError{Offset: koff, Msg: "invalid JSON: object key is not a string"}
				}
				if v.get(k) != nil {
					return nil, &ParseError{Offset: koff, Msg: fmt.Sprintf("duplicate key %q", k)}
				}
				e, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, k)
				v.vals = append(v.vals, e)
			}
			if _, err := p.dec.Token(); err != nil { // }
				return nil, err
			}
		default:
			return nil, &ParseError{Offset: off, Msg: fmt.Sprintf("invalid JSON: unexpected %q", rune(t))}
		}
	default:
		return nil, &ParseError{Offset: off, Msg: fmt.Sprintf("invalid JSON token %v", tok)}
	}
	return v, nil
}

// lineIndex maps byte offsets of a document to 1-based lines and columns.
// Columns count characters (runes), not bytes.
type lineIndex struct {
	data   []byte
	starts []int // offset of the first byte of each line
}

func newLineIndex(data []byte) *lineIndex {
	li := &lineIndex{data: data, starts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			li.starts = append(li.starts, i+1)
		}
	}
	return li
}

// position returns the line and column of offset off (clamped to the
// document).
func (li *lineIndex) position(off int) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > len(li.data) {
		off = len(li.data)
	}
	i := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, len([]rune(string(li.data[li.starts[i]:off]))) + 1
}

func (li *lineIndex) errorAt(off int, pointer, msg string) *ParseError {
	line, col := li.position(off)
	return &ParseError{Offset: off, Line: line, Column: col, Pointer: pointer, Msg: msg}
}

// ParseError is a schema document that is not valid JSON or not a valid
// Avro schema. Line and Column are 1-based; Pointer is the JSON pointer of
// the offending element when it is known ("" for the root or for JSON
// syntax errors).
type ParseError struct {
	Offset       int
	Line, Column int
	Pointer      string
	Msg          string
}

// Error renders "line L, column C: message (at /pointer)".
func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d, column %d: %s", e.Line, e.Column, e.Msg)
	if e.Pointer != "" {
		fmt.Fprintf(&b, " (at %s)", e.Pointer)
	}
	return b.String()
}
