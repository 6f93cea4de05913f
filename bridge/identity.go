package bridge

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/telebridge/telebridge/schemas"
)

// eventNamespace is the UUIDv5 namespace of telebridge event ids:
// a fixed random UUID; changing it would change every eventId.
const eventNamespace = "\x6f\x2c\x5e\x1a\x8b\x3d\x5f\x4e\x9a\x51\x0c\x7d\x22\x93\xe4\xb8"

// identity is the deterministic identity of one derived object: its eventId
// (UUIDv5 of topic, partition, offset and object index) and a positive 63-bit
// record id taken from the same digest. A redelivered record yields the same
// identities, so consumers can deduplicate.
type identity struct {
	EventID  string
	RecordID int64
	index    int
}

// newIdentity computes the identity of object index of topic/partition@offset.
func newIdentity(topic string, partition int32, offset int64, index int) identity {
	// index is the object's position among the record's non-asset objects,
	// or -1, -2, ... among its assets.
	var buf [256]byte
	name := append(buf[:0], eventNamespace...)
	name = append(name, topic...)
	name = append(name, '/')
	name = strconv.AppendInt(name, int64(partition), 10)
	name = append(name, '@')
	name = strconv.AppendInt(name, offset, 10)
	name = append(name, '#')
	name = strconv.AppendInt(name, int64(index), 10)

	sum := sha1.Sum(name) // namespace || name, as UUIDv5 defines

	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant

	id := int64(binary.BigEndian.Uint64(sum[12:20]) & 0x7fffffffffffffff)
	if id == 0 {
		id = 1
	}
	return identity{EventID: formatUUID(u), RecordID: id}
}

func formatUUID(u [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return string(out[:])
}

// ObjectIdentity is the pipeline identity of one object derived from a
// source record: its eventId and, for record types, the int64 record id the
// pipeline assigns when the source supplies none.
type ObjectIdentity struct {
	EventID  string
	RecordID int64
}

// AssignIdentities gives the objects derived from topic/partition@offset
// the identities the pipeline gives them: non-asset objects are indexed 0,
// 1, ... and assets -1, -2, ... in order; a record type whose id is 0 gets
// the derived record id (SetRecordID). It returns one identity per object.
func AssignIdentities(topic string, partition int32, offset int64, objs []schemas.Object) []ObjectIdentity {
	out := make([]ObjectIdentity, len(objs))
	nAsset, nOther := 0, 0
	for i, o := range objs {
		idx := nOther
		if o.ObjectType() == schemas.TypeAsset {
			nAsset++
			idx = -nAsset
		} else {
			nOther++
		}
		id := newIdentity(topic, partition, offset, idx)
		if rid, has := o.RecordID(); has && rid == 0 {
			o.SetRecordID(id.RecordID)
		}
		out[i] = ObjectIdentity{EventID: id.EventID, RecordID: id.RecordID}
	}
	return out
}
