package profile

import (
	"crypto/sha1"
	"encoding/hex"
)

// MobitoNamespace is the UUIDv5 namespace of MOBITO asset ids:
// UUIDv5(DNS namespace, "mobito.telebridge.io"). Changing it would change
// every MOBITO asset id.
const MobitoNamespace = "3faaaf36-7d3a-579b-8661-09bdda585bb7"

// mobitoNamespace is MobitoNamespace as bytes.
const mobitoNamespace = "\x3f\xaa\xaf\x36\x7d\x3a\x57\x9b\x86\x61\x09\xbd\xda\x58\x5b\xb7"

// MobitoAssetID returns the asset id of the MOBITO vehicle with this VIN:
// the RFC 9562 UUIDv5 of vin in MobitoNamespace, lower-case text.
func MobitoAssetID(vin string) string {
	return uuidV5(mobitoNamespace, vin)
}

// uuidV5 returns the RFC 9562 version 5 UUID of name in namespace ns (16
// raw bytes), formatted as lower-case 8-4-4-4-12 text.
func uuidV5(ns, name string) string {
	var buf [96]byte
	sum := sha1.Sum(append(append(buf[:0], ns...), name...))
	sum[6] = (sum[6] & 0x0f) | 0x50 // version 5
	sum[8] = (sum[8] & 0x3f) | 0x80 // RFC 4122 variant
	var out [36]byte
	hex.Encode(out[0:8], sum[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], sum[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], sum[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], sum[8:10])
	out[23] = '-'
	hex.Encode(out[24:], sum[10:16])
	return string(out[:])
}
