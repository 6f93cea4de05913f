package kafkaws

import (
	"fmt"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// WebSocket close codes sent by the endpoint. 4000-4004, 4403, 4408 and
// 4999 are the dojot Kafka WS codes; 4429 is telebridge's own.
const (
	// CodeInvalidSyntax: `where` or `fields` does not follow the grammar.
	CodeInvalidSyntax websocket.StatusCode = 4000
	// CodeInvalidOperator: a `where` condition names an unknown operator.
	CodeInvalidOperator websocket.StatusCode = 4001
	// CodeInvalidEscape: a backslash escape other than the supported ones.
	CodeInvalidEscape websocket.StatusCode = 4002
	// CodeInvalidArity: the number of values does not suit the operator.
	CodeInvalidArity websocket.StatusCode = 4003
	// CodeInvalidValue: a value of the wrong type for its operator (gt, gte,
	// lt, lte need a number; bool needs true, false, 1 or 0).
	CodeInvalidValue websocket.StatusCode = 4004
	// CodeForbiddenTopic: the ticket's tenant may not read the topic.
	CodeForbiddenTopic websocket.StatusCode = 4403
	// CodeExpired: the connection's lifetime (or the JWT's expiry) is over.
	CodeExpired websocket.StatusCode = 4408
	// CodeSlowConsumer: the client fell so far behind that its send queue
	// filled up; it was disconnected so that it cannot slow anyone else.
	CodeSlowConsumer websocket.StatusCode = 4429
	// CodeInternal: the server failed (Kafka consumer, shutdown, ...).
	CodeInternal websocket.StatusCode = 4999
)

// CodeName returns the symbolic name of a close code of this package, or "".
func CodeName(c websocket.StatusCode) string {
	switch c {
	case CodeInvalidSyntax:
		return "INVALID_SYNTAX"
	case CodeInvalidOperator:
		return "INVALID_OPERATOR"
	case CodeInvalidEscape:
		return "INVALID_ESCAPE_VALUE"
	case CodeInvalidArity:
		return "INVALID_OPERATOR_ARITY"
	case CodeInvalidValue:
		return "INVALID_VALUE"
	case CodeForbiddenTopic:
		return "FORBIDDEN_TOPIC"
	case CodeExpired:
		return "EXPIRED_CONNECTION"
	case CodeSlowConsumer:
		return "SLOW_CONSUMER"
	case CodeInternal:
		return "INTERNAL"
	}
	return ""
}

// maxReason is the largest close reason RFC 6455 allows (125-byte control
// frame payload minus the 2-byte code).
const maxReason = 123

// reason builds a close reason "NAME: detail", cut to maxReason bytes on a
// UTF-8 boundary.
func reason(c websocket.StatusCode, detail string) string {
	s := CodeName(c)
	if detail != "" {
		s += ": " + detail
	}
	if len(s) <= maxReason {
		return s
	}
	s = s[:maxReason]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// FilterError is a bad `where` or `fields` expression: the close code to
// send, what is wrong and the 0-based byte offset where it was found in the
// URL-decoded parameter.
type FilterError struct {
	Code   websocket.StatusCode
	Param  string // "where" or "fields"
	Offset int
	Msg    string
}

// Error returns "<param> at <offset>: <msg>", short enough to be a close
// reason after the code name (long inputs are cut by reason).
func (e *FilterError) Error() string {
	return fmt.Sprintf("%s at %d: %s", e.Param, e.Offset, e.Msg)
}

// CloseReason returns the close frame reason for e.
func (e *FilterError) CloseReason() string { return reason(e.Code, e.Error()) }

// quoteShort quotes s for a message, cut to n bytes.
func quoteShort(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return fmt.Sprintf("%q...", s)
	}
	return fmt.Sprintf("%q", s)
}
