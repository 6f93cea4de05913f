package sinks

import (
	"context"
	"errors"
	"fmt"
)

// ErrClosed is wrapped by the error Send returns once the sink's Close has
// started; done is not called then.
var ErrClosed = errors.New("sink closed")

// Admit is the common start of a Sink's Send: it checks that m has an
// object and done is set, then takes one in-flight slot from slots (a
// buffered channel whose capacity is the sink's in-flight limit; the slot
// is released by receiving from it once done was called), waiting while
// the sink is full. A free slot wins over a cancelled ctx, so a cancelled
// ctx only stops a Send that would really wait. It returns ctx.Err()
// unwrapped when ctx ends first, and an error naming the sink (`kafka
// sink "lake"`, from kind and name) and wrapping ErrClosed when closing is
// closed. It allocates nothing unless it fails.
func Admit(ctx context.Context, kind, name string, m *Message, done func(Result), slots chan struct{}, closing <-chan struct{}) error {
	if m == nil || m.Object == nil {
		return fmt.Errorf("%s sink %q: send: message has no object", kind, name)
	}
	if done == nil {
		return fmt.Errorf("%s sink %q: send: nil done callback", kind, name)
	}
	select {
	case <-closing:
		return fmt.Errorf("%s sink %q: send: %w", kind, name, ErrClosed)
	default:
	}
	select {
	case slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-closing:
		return fmt.Errorf("%s sink %q: send: %w", kind, name, ErrClosed)
	}
}
