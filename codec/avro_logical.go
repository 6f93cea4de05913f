package codec

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"strconv"
)

// conv selects how a decoded primitive is presented, from the reader type and
// its logical type.
type conv uint8

const (
	convInt64           conv = iota // int, long -> int64
	convFloat64                     // int, long promoted to float or double -> float64
	convDate                        // int days since 1970-01-01 -> "2006-01-02"
	convTimeMillis                  // int ms after midnight -> "15:04:05.000"
	convTimeMicros                  // long µs after midnight -> "15:04:05.000000"
	convTimestampMillis             // long ms since epoch -> RFC 3339 UTC, ms precision
	convTimestampMicros             // long µs since epoch -> RFC 3339 UTC, µs precision
	convBytes                       // bytes, fixed -> []byte (copied)
	convString                      // string, or bytes promoted to string -> string
	convDecimal                     // bytes, fixed decimal -> exact decimal string
	convDuration                    // fixed(12) duration -> {months, days, milliseconds}
)

const (
	millisPerDay = 24 * 60 * 60 * 1000
	microsPerDay = millisPerDay * 1000

	// maxDecimalBytes bounds the significant bytes of a decimal value
	// (about 2,400 digits) so that formatting stays cheap.
	maxDecimalBytes = 1024

	// Days from 1970-01-01 to 0000-01-01 and to 9999-12-31 (proleptic
	// Gregorian): the range of RFC 3339 dates.
	minDay = -719528
	maxDay = 2932896
)

// convertInt presents an int or long value. Strings are allocated from d,
// which may be nil.
func convertInt(d *decoder, c conv, v int64) (any, error) {
	switch c {
	case convInt64:
		return v, nil
	case convFloat64:
		return float64(v), nil
	case convDate:
		if v < minDay || v > maxDay {
			return nil, fmt.Errorf("date %d days is outside years 0000-9999", v)
		}
		return d.finish(appendDate(d.scratch(10), v)), nil
	case convTimeMillis:
		if v < 0 || v >= millisPerDay {
			return nil, fmt.Errorf("time-millis %d is outside [0, %d)", v, millisPerDay)
		}
		return d.finish(appendClock(d.scratch(12), v/1000, v%1000, 3)), nil
	case convTimeMicros:
		if v < 0 || v >= microsPerDay {
			return nil, fmt.Errorf("time-micros %d is outside [0, %d)", v, int64(microsPerDay))
		}
		return d.finish(appendClock(d.scratch(15), v/1_000_000, v%1_000_000, 6)), nil
	case convTimestampMillis:
		s, err := timestamp(d, v, 1000, 3)
		if err != nil {
			return nil, fmt.Errorf("timestamp-millis %d: %w", v, err)
		}
		return s, nil
	case convTimestampMicros:
		s, err := timestamp(d, v, 1_000_000, 6)
		if err != nil {
			return nil, fmt.Errorf("timestamp-micros %d: %w", v, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("internal: conversion %d does not apply to int or long", c)
}

// timestamp renders v units (perSec per second) since the Unix epoch as
// "2006-01-02T15:04:05.000Z" with digits fractional digits.
func timestamp(d *decoder, v, perSec int64, digits int) (string, error) {
	secs, frac := floorDivMod(v, perSec)
	days, sod := floorDivMod(secs, 86400)
	if days < minDay || days > maxDay {
		return "", fmt.Errorf("outside years 0000-9999")
	}
	b := appendDate(d.scratch(27), days)
	b = append(b, 'T')
	b = appendClock(b, sod, frac, digits)
	b = append(b, 'Z')
	return d.finish(b), nil
}

func floorDivMod(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

// appendDate appends the proleptic Gregorian date of days since 1970-01-01
// as "2006-01-02"; days must be within [minDay, maxDay]. The civil-from-days
// algorithm is Howard Hinnant's.
func appendDate(b []byte, days int64) []byte {
	z := days + 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, day)
}

// appendClock appends seconds after midnight plus a fraction with the given
// number of digits as "15:04:05.000".
func appendClock(b []byte, secs, frac int64, digits int) []byte {
	b = append2(b, secs/3600)
	b = append(b, ':')
	b = append2(b, secs/60%60)
	b = append(b, ':')
	b = append2(b, secs%60)
	b = append(b, '.')
	b = append(b, "000000"[:digits]...)
	for i := len(b) - 1; i >= len(b)-digits; i-- {
		b[i] = byte('0' + frac%10)
		frac /= 10
	}
	return b
}

func append2(b []byte, v int64) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

// convertBytes presents a bytes, string or fixed value. b aliases the
// payload and is copied. Strings are allocated from d, which may be nil.
func convertBytes(d *decoder, c conv, scale int, b []byte) (any, error) {
	switch c {
	case convBytes:
		return append(make([]byte, 0, len(b)), b...), nil
	case convString:
		return d.finish(append(d.scratch(len(b)), b...)), nil
	case convDecimal:
		return formatDecimal(d, b, scale)
	case convDuration:
		if len(b) != 12 {
			return nil, fmt.Errorf("duration is %d bytes, want 12", len(b))
		}
		return map[string]any{
			"months":       int64(binary.LittleEndian.Uint32(b[0:])),
			"days":         int64(binary.LittleEndian.Uint32(b[4:])),
			"milliseconds": int64(binary.LittleEndian.Uint32(b[8:])),
		}, nil
	}
	return nil, fmt.Errorf("internal: conversion %d does not apply to bytes", c)
}

// formatDecimal renders a big-endian two's-complement unscaled integer with
// exactly scale fractional digits, e.g. ([]byte{0x30, 0x39}, 2) -> "123.45".
func formatDecimal(d *decoder, b []byte, scale int) (string, error) {
	neg := len(b) > 0 && b[0]&0x80 != 0
	// Drop redundant sign-extension bytes (fixed decimals are padded).
	for len(b) > 1 && ((b[0] == 0 && b[1]&0x80 == 0) || (b[0] == 0xff && b[1]&0x80 != 0)) {
		b = b[1:]
	}
	if len(b) > maxDecimalBytes {
		return "", fmt.Errorf("decimal of %d significant bytes exceeds the %d-byte limit", len(b), maxDecimalBytes)
	}
	var digits []byte
	var stack [24]byte
	if len(b) <= 8 {
		var v int64
		for _, x := range b {
			v = v<<8 | int64(x)
		}
		if neg {
			v |= -1 << (8 * uint(len(b))) // sign-extend; no-op for 8 bytes
		}
		u := uint64(v)
		if neg {
			u = -u
		}
		digits = strconv.AppendUint(stack[:0], u, 10)
	} else {
		n := new(big.Int).SetBytes(b)
		if neg {
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			n.Neg(n)
		}
		digits = n.Append(stack[:0], 10)
	}
	out := d.scratch(len(digits) + scale + 3)
	if neg {
		out = append(out, '-')
	}
	switch {
	case scale == 0:
		out = append(out, digits...)
	case len(digits) <= scale:
		out = append(out, '0', '.')
		for range scale - len(digits) {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default:
		ip := len(digits) - scale
		out = append(out, digits[:ip]...)
		out = append(out, '.')
		out = append(out, digits[ip:]...)
	}
	return d.finish(out), nil
}
