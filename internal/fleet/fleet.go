// Package fleet simulates a fleet of Trackunit machines and MOBITO vehicles
// for demos, benchmarks and tests.
//
// A Fleet is deterministic: the same Config yields the same sequence of
// messages. Machines work on construction sites around European cities
// (moving slowly while their engine runs); vehicles drive loops around the
// cities. Sensor values change plausibly between reports: fuel falls and is
// refilled, hours and distance grow, voltages carry noise, and CAN messages,
// advanced sensors, fault codes and key usages appear now and then. Some data
// points are reported late (out of order), and some locations are
// altitude-only (latitude and longitude 0), as in the real Trackunit feed.
//
// A Fleet is not safe for concurrent use.
package fleet

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/telebridge/telebridge/bridge/profile"
)

// Config sizes and seeds a Fleet.
type Config struct {
	// Machines is the number of Trackunit machines; Vehicles the number of
	// MOBITO vehicles. Negative counts are treated as 0.
	Machines, Vehicles int
	// Seed seeds every random choice.
	Seed uint64
	// Start is the simulated time of the first message; zero means
	// 2025-01-06T08:00:00Z.
	Start time.Time
}

// Step is how far the simulated clock advances per generated message.
const Step = time.Second

// Fleet is a simulated fleet. Create it with New.
type Fleet struct {
	rng      *rand.Rand
	now      time.Time
	machines []*machine
	vehicles []*vehicle
	nextM    int
	nextV    int

	schema    avro.Schema // parsed lazily by NextTrackunitAvro
	schemaErr error
}

// New returns a fleet of cfg.Machines machines and cfg.Vehicles vehicles.
func New(cfg Config) *Fleet {
	start := cfg.Start
	if start.IsZero() {
		start = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	}
	f := &Fleet{
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		now: start.UTC(),
	}
	for i := range max(cfg.Machines, 0) {
		f.machines = append(f.machines, newMachine(f.rng, i, f.now))
	}
	for i := range max(cfg.Vehicles, 0) {
		f.vehicles = append(f.vehicles, newVehicle(f.rng, i, f.now))
	}
	return f
}

// Now is the simulated time of the most recent message (the start time
// before the first). Use it as the Kafka record timestamp of that message.
func (f *Fleet) Now() time.Time { return f.now }

// Machines returns the MachineId of every machine, in order.
func (f *Fleet) Machines() []string {
	ids := make([]string, len(f.machines))
	for i, m := range f.machines {
		ids[i] = m.id
	}
	return ids
}

// Vehicles returns the VIN of every vehicle, in order.
func (f *Fleet) Vehicles() []string {
	vins := make([]string, len(f.vehicles))
	for i, v := range f.vehicles {
		vins[i] = v.vin
	}
	return vins
}

func (f *Fleet) tick() time.Time {
	f.now = f.now.Add(Step)
	return f.now
}

// city is a place units work around.
type city struct {
	name, country, zip string
	lat, lon           float64
}

var cities = [...]city{
	{"Copenhagen", "DK", "1550", 55.6761, 12.5683},
	{"Hamburg", "DE", "20095", 53.5511, 9.9937},
	{"Amsterdam", "NL", "1012", 52.3676, 4.9041},
	{"Munich", "DE", "80331", 48.1351, 11.5820},
	{"Lyon", "FR", "69002", 45.7640, 4.8357},
	{"Milan", "IT", "20121", 45.4642, 9.1900},
	{"Warsaw", "PL", "00-001", 52.2297, 21.0122},
	{"Athens", "GR", "105 52", 37.9838, 23.7275},
	{"Madrid", "ES", "28013", 40.4168, -3.7038},
}

// orbit moves a unit on a circle around a centre.
type orbit struct {
	lat0, lon0 float64 // centre
	radius     float64 // metres
	angle      float64 // radians
	speed      float64 // metres per second while moving
}

const metresPerDegree = 111320.0

func (o *orbit) advance(seconds float64) (metres float64) {
	metres = o.speed * seconds
	o.angle = math.Mod(o.angle+metres/o.radius, 2*math.Pi)
	return metres
}

func (o *orbit) position() (lat, lon, heading float64) {
	north := o.radius * math.Cos(o.angle)
	east := o.radius * math.Sin(o.angle)
	lat = o.lat0 + north/metresPerDegree
	lon = o.lon0 + east/(metresPerDegree*math.Cos(o.lat0*math.Pi/180))
	heading = math.Mod(math.Atan2(math.Cos(o.angle), -math.Sin(o.angle))*180/math.Pi+360, 360)
	return lat, lon, heading
}

func newOrbit(rng *rand.Rand, c city, spread, minRadius, maxRadius float64) orbit {
	return orbit{
		lat0:   c.lat + (rng.Float64()*2-1)*spread/metresPerDegree,
		lon0:   c.lon + (rng.Float64()*2-1)*spread/metresPerDegree,
		radius: minRadius + rng.Float64()*(maxRadius-minRadius),
		angle:  rng.Float64() * 2 * math.Pi,
	}
}

// randomUUID returns a version 4 UUID drawn from rng.
func randomUUID(rng *rand.Rand) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], rng.Uint64())
	binary.BigEndian.PutUint64(b[8:], rng.Uint64())
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// round rounds x to the given number of decimals.
func round(x float64, decimals int) float64 {
	p := math.Pow10(decimals)
	return math.Round(x*p) / p
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// Poison kinds accepted by PoisonTrackunit and PoisonMobito. They equal the
// dead-letter error classes the pipeline assigns to them.
const (
	// PoisonBadMagic: first byte is not the Confluent magic byte 0.
	PoisonBadMagic = "bad-magic"
	// PoisonUnknownSchemaID: well-formed, but the schema id is not the
	// known one (the id is 2147483647, or 2147483646 when that is known).
	PoisonUnknownSchemaID = "unknown-schema-id"
	// PoisonCorruptAvro: the known schema id followed by bytes that are not
	// a valid MachineInsights record (an out-of-range union index).
	PoisonCorruptAvro = "corrupt-avro"
	// PoisonInvalidJSON: not a JSON object (truncated JSON).
	PoisonInvalidJSON = "invalid-json"
	// PoisonMapping: decodes fine but cannot be mapped: a Trackunit record
	// with every field null (no Metadata.MachineId), or a MOBITO message
	// without vin.
	PoisonMapping = "mapping"
)

// TrackunitPoisonKinds lists the kinds PoisonTrackunit accepts.
func TrackunitPoisonKinds() []string {
	return []string{PoisonBadMagic, PoisonUnknownSchemaID, PoisonCorruptAvro, PoisonMapping}
}

// MobitoPoisonKinds lists the kinds PoisonMobito accepts.
func MobitoPoisonKinds() []string { return []string{PoisonInvalidJSON, PoisonMapping} }

// AppendWire appends the Confluent wire-format header (magic byte 0 and the
// 4-byte big-endian schema id) to dst. It fails when id does not fit in 32
// bits unsigned.
func AppendWire(dst []byte, schemaID int) ([]byte, error) {
	if schemaID < 0 || int64(schemaID) > math.MaxUint32 {
		return dst, fmt.Errorf("fleet: schema id %d does not fit the 4-byte wire format", schemaID)
	}
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint32(dst, uint32(schemaID)), nil
}

// PoisonTrackunit returns a Trackunit record value of the given poison kind
// (PoisonBadMagic, PoisonUnknownSchemaID, PoisonCorruptAvro, PoisonMapping)
// built around knownSchemaID, the id the registry knows for the reader
// schema. It returns nil for any other kind or an id that does not fit the
// wire format.
func PoisonTrackunit(kind string, knownSchemaID int) []byte {
	// An all-null MachineInsights record: union branch 0 (one zero byte)
	// for every field.
	allNull := make([]byte, trackunitFieldCount())
	switch kind {
	case PoisonBadMagic:
		b := []byte{1, 0, 0, 0, 1}
		return append(b, allNull...)
	case PoisonUnknownSchemaID:
		id := math.MaxInt32
		if knownSchemaID == id {
			id--
		}
		b, err := AppendWire(nil, id)
		if err != nil {
			return nil
		}
		return append(b, allNull...)
	case PoisonCorruptAvro:
		b, err := AppendWire(nil, knownSchemaID)
		if err != nil {
			return nil
		}
		// Union index 63 for EquipmentHeader, whose union has 2 branches.
		return append(b, 0x7e, 0x02, 0x02)
	case PoisonMapping:
		b, err := AppendWire(nil, knownSchemaID)
		if err != nil {
			return nil
		}
		return append(b, allNull...)
	}
	return nil
}

// trackunitFieldCount is the number of top-level fields of the reader
// schema, 0 if it cannot be parsed.
func trackunitFieldCount() int {
	s, err := parseReaderSchema()
	if err != nil {
		return 0
	}
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		return 0
	}
	return len(rec.Fields())
}

// parseReaderSchema parses profile.TrackunitReaderSchema with a private
// name cache, so other schemas with the same names (writer versions in
// tests) never collide in hamba's global cache.
func parseReaderSchema() (avro.Schema, error) {
	return avro.ParseWithCache(profile.TrackunitReaderSchema(), "", &avro.SchemaCache{})
}

// PoisonMobito returns a MOBITO record value of the given poison kind
// (PoisonInvalidJSON, PoisonMapping), or nil for any other kind.
func PoisonMobito(kind string) []byte {
	switch kind {
	case PoisonInvalidJSON:
		return []byte(`{"vin": "WBATB000000000001", "fleet_id": "fleet-01", "battery_voltage": "12.`)
	case PoisonMapping:
		return []byte(`{"fleet_id": "fleet-01", "battery_voltage": "12.56", "latitude": "36.8", "longitude": "21.7"}`)
	}
	return nil
}

// NextTrackunitAvro returns the next Trackunit message in Confluent wire
// format: magic byte 0, schemaID as 4 bytes big-endian, then the Avro
// binary encoding of NextTrackunit under TrackunitReaderSchema. It fails
// when the fleet has no machines, schemaID does not fit 32 bits, or
// encoding fails.
func (f *Fleet) NextTrackunitAvro(schemaID int) ([]byte, error) {
	if f.schema == nil && f.schemaErr == nil {
		f.schema, f.schemaErr = parseReaderSchema()
	}
	if f.schemaErr != nil {
		return nil, fmt.Errorf("fleet: parse trackunit reader schema: %w", f.schemaErr)
	}
	if len(f.machines) == 0 {
		return nil, errors.New("fleet: no machines configured")
	}
	out, err := AppendWire(make([]byte, 0, 1024), schemaID)
	if err != nil {
		return nil, err
	}
	body, err := avro.Marshal(f.schema, f.NextTrackunit())
	if err != nil {
		return nil, fmt.Errorf("fleet: encode trackunit message: %w", err)
	}
	return append(out, body...), nil
}

// NextMobitoJSON returns the next MOBITO message: a JSON object shaped like
// the Push API sample (the same members, numbers partly as strings). It
// returns nil when the fleet has no vehicles.
func (f *Fleet) NextMobitoJSON() []byte {
	if len(f.vehicles) == 0 {
		return nil
	}
	v := f.vehicles[f.nextV]
	f.nextV = (f.nextV + 1) % len(f.vehicles)
	now := f.tick()
	v.advance(f.rng, now)
	b, err := json.Marshal(v.message(f.rng))
	if err != nil {
		return nil // unreachable: the message has only strings, ints and bools
	}
	return b
}

// fmtNum renders a float with the given decimals, as the MOBITO feed does
// ("680.0").
func fmtNum(x float64, decimals int) string { return strconv.FormatFloat(x, 'f', decimals, 64) }
