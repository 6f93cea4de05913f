package fleet

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Reefers simulates refrigerated containers with clip-on gensets for the
// mapped reefer feed of the demo: one JSON document per reading, shaped like
// testdata/mappings/reefer.json (controller readings in Fahrenheit, local
// time with an IANA zone, text numbers) with the genset's readings in a
// "genset" member shaped like testdata/mappings/genset.json. Create it with
// NewReefers; not safe for concurrent use.
type Reefers struct {
	rng   *rand.Rand
	units []*reefer
	next  int
}

type reefer struct {
	container, device, genset string
	setPointF, supplyF        float64
	fuel, hours               float64
	lat, lon                  float64
	zone                      string
}

// NewReefers returns n simulated reefer units (n < 1 means 1).
func NewReefers(n int, seed uint64) *Reefers {
	r := &Reefers{rng: rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))}
	ports := []struct {
		lat, lon float64
		zone     string
	}{{1.2645, 103.8207, "Asia/Singapore"}, {51.9490, 4.1420, "Europe/Amsterdam"}, {33.7405, -118.2620, "America/Los_Angeles"}}
	for i := range max(n, 1) {
		p := ports[i%len(ports)]
		r.units = append(r.units, &reefer{
			container: fmt.Sprintf("MSKU%07d", 9070323+i*17),
			device:    fmt.Sprintf("RCM-%07d", 42317+i),
			genset:    fmt.Sprintf("GS-%04d", 7781+i),
			setPointF: []float64{35.6, -0.4, 55.4}[i%3],
			fuel:      40 + r.rng.Float64()*55,
			hours:     2000 + r.rng.Float64()*6000,
			lat:       p.lat + r.rng.Float64()*0.02,
			lon:       p.lon + r.rng.Float64()*0.02,
			zone:      p.zone,
		})
	}
	return r
}

// Next returns the next unit's reading taken at now.
func (r *Reefers) Next(now time.Time) []byte {
	u := r.units[r.next]
	r.next = (r.next + 1) % len(r.units)
	u.supplyF = u.setPointF + (r.rng.Float64()-0.5)*1.5
	u.fuel = max(u.fuel-r.rng.Float64()*0.05, 5)
	u.hours += 1.0 / 3600
	loc, err := time.LoadLocation(u.zone)
	if err != nil {
		loc = time.UTC
	}
	var alarms []map[string]any
	if r.rng.IntN(20) == 0 {
		alarms = append(alarms, map[string]any{"code": "AL-17", "severity": "WARNING", "text": "Return air sensor deviation"})
	}
	msg := map[string]any{
		"messageId":        fmt.Sprintf("%016x", r.rng.Uint64()),
		"containerId":      u.container,
		"deviceId":         u.device,
		"manufacturer":     "THERMOKING",
		"model":            "MAGNUM PLUS",
		"eventTime":        now.In(loc).Format("2006-01-02 15:04:05"),
		"timeZone":         u.zone,
		"temperatureUnit":  "F",
		"setPoint":         fmtNum(u.setPointF, 1),
		"supplyAirTemp":    fmtNum(u.supplyF, 1),
		"returnAirTemp":    fmtNum(u.supplyF+2+r.rng.Float64(), 1),
		"ambientTemp":      fmtNum(70+r.rng.Float64()*20, 1),
		"humidity":         fmt.Sprint(60 + r.rng.IntN(30)),
		"humiditySetPoint": "75",
		"powerState":       "ON",
		"operatingMode":    "CHILL",
		"defrostActive":    r.rng.IntN(50) == 0,
		"compressorHours":  int(u.hours * 3.5),
		"alarms":           alarms,
		"gps":              map[string]any{"lat": u.lat, "lon": u.lon, "fixTime": now.Add(-20 * time.Second).Unix()},
		"genset": map[string]any{
			"gensetId": u.genset, "serial": "CL-" + u.genset, "make": "CARRIER", "model": "SG+3000",
			"ts": now.UnixMilli(), "running": true, "fuelLevelPct": fmtNum(u.fuel, 1),
			"engineHours": fmtNum(u.hours, 1), "batteryVolts": fmtNum(13+r.rng.Float64()*0.4, 1),
			"rpm": 1800, "coolantTempF": fmtNum(180+r.rng.Float64()*10, 1), "outputVolts": "460",
			"outputHz": fmtNum(59.9+r.rng.Float64()*0.2, 1), "loadKw": fmtNum(5+r.rng.Float64()*3, 1), "faults": []any{},
		},
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil // unreachable: only strings, numbers, bools, maps and slices
	}
	return b
}
