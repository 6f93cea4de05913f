package codec

import "encoding/binary"

// WireHeaderSize is the length of the Confluent wire-format header: a zero
// magic byte followed by the 4-byte big-endian schema id.
const WireHeaderSize = 5

// ParseWire splits a Confluent wire-format value into its schema id and
// payload. The payload aliases b. Values shorter than WireHeaderSize or whose
// first byte is not 0 fail with an *Error of ClassBadMagic. The id is read as
// an unsigned 32-bit number, so it is never negative.
func ParseWire(b []byte) (schemaID int, payload []byte, err error) {
	if len(b) < WireHeaderSize {
		return 0, nil, newError(ClassBadMagic, 0, "value is %d bytes, shorter than the 5-byte Confluent wire header", len(b))
	}
	if b[0] != 0 {
		return 0, nil, newError(ClassBadMagic, 0, "magic byte is 0x%02x, want 0x00 (not Confluent wire format)", b[0])
	}
	return int(binary.BigEndian.Uint32(b[1:5])), b[WireHeaderSize:], nil
}

// AppendWire appends the Confluent wire header for schemaID and then payload
// to dst and returns the extended slice. schemaID is truncated to 32 bits.
func AppendWire(dst []byte, schemaID int, payload []byte) []byte {
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(schemaID))
	return append(dst, payload...)
}
