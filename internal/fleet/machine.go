package fleet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// ns is the Avro namespace of the Trackunit reader schema; hamba names
// union branches of named types by their full name.
const ns = "com.trackunit.machineinsights."

// union wraps v as the union branch of the named type typeName, the form
// hamba's generic encoder needs for records and enums inside unions.
func union(typeName string, v any) map[string]any { return map[string]any{ns + typeName: v} }

// machineModel is a kind of construction machine.
type machineModel struct {
	oem, model, kind string
	tankLitres       float64
	battery          float64 // nominal volts
}

var machineModels = [...]machineModel{
	{"Red Tractors", "F6000", "Tractor", 300, 12},
	{"Caterpillar", "320 GC", "Excavator", 345, 24},
	{"Volvo CE", "EC220E", "Excavator", 320, 24},
	{"Komatsu", "PC210LC-11", "Excavator", 400, 24},
	{"JCB", "3CX", "Backhoe loader", 160, 12},
	{"Liebherr", "L 566", "Wheel loader", 405, 24},
}

// machine is one simulated Trackunit unit and the machine it sits on.
type machine struct {
	id, serial, equipmentID, pin, extRef string
	unitID                               int64
	model                                machineModel
	home                                 city
	install                              time.Time
	route                                orbit
	last                                 time.Time

	engineOn, parkingBrake bool
	fuel, def              float64 // percent
	hours                  [5]float64
	distance               float64 // km
	fuelUsed               float64 // litres
	coolant, ambient       float64 // celsius
	canCounter             int64
	faults                 int
}

// Hours fields, in the order of machine.hours.
var hoursFields = [...]string{
	"CumulativeOperatingHours", "CumulativeIdleHours", "CumulativeIdleNonOperatingHours",
	"CumulativeProductiveHours", "CumulativeMovingHours",
}

func newMachine(rng *rand.Rand, i int, now time.Time) *machine {
	mm := machineModels[rng.IntN(len(machineModels))]
	c := cities[rng.IntN(len(cities))]
	m := &machine{
		id:          randomUUID(rng),
		serial:      fmt.Sprintf("TU%08d", 10000000+rng.IntN(89999999)),
		equipmentID: fmt.Sprintf("%s %03d", mm.kind, i+1),
		pin:         fmt.Sprintf("%s%013d", mm.oem[:3], rng.Int64N(1e13)),
		extRef:      fmt.Sprintf("SITE-%s-%02d", c.name[:3], i%7+1),
		unitID:      int64(3000000 + rng.IntN(999999)),
		model:       mm,
		home:        c,
		install:     now.Add(-time.Duration(30+rng.IntN(900)) * 24 * time.Hour).Truncate(time.Hour),
		route:       newOrbit(rng, c, 8000, 80, 400),
		last:        now,
		fuel:        40 + rng.Float64()*60,
		def:         30 + rng.Float64()*70,
		distance:    rng.Float64() * 5000,
		ambient:     -2 + rng.Float64()*25,
		engineOn:    rng.IntN(2) == 0,
	}
	base := 200 + rng.Float64()*8000
	m.hours = [5]float64{base, base * 0.25, base * 0.08, base * 0.6, base * 0.15}
	m.fuelUsed = base * 14
	m.coolant = m.ambient
	return m
}

// advance moves the machine's state on to now.
func (m *machine) advance(rng *rand.Rand, now time.Time) {
	dt := now.Sub(m.last).Seconds()
	m.last = now
	if rng.IntN(40) == 0 {
		m.engineOn = !m.engineOn
	}
	m.parkingBrake = !m.engineOn || rng.IntN(4) == 0
	h := dt / 3600
	if m.engineOn {
		m.hours[0] += h
		if m.parkingBrake {
			m.hours[1] += h
			m.route.speed = 0
		} else {
			m.hours[3] += h
			m.hours[4] += h
			m.route.speed = 0.5 + rng.Float64()*2 // m/s
		}
		m.fuel -= h * 100 * 18 / m.model.tankLitres
		m.fuelUsed += h * 18
		m.def -= h * 0.8
		m.coolant += (88 - m.coolant) * 0.3
	} else {
		m.hours[2] += h * 0.1
		m.route.speed = 0
		m.coolant += (m.ambient - m.coolant) * 0.1
	}
	m.distance += m.route.advance(dt) / 1000
	if m.fuel < 8 {
		m.fuel = 95 + rng.Float64()*5 // refuelled
	}
	if m.def < 5 {
		m.def = 100
	}
	m.ambient = clamp(m.ambient+rng.NormFloat64()*0.2, -25, 45)
}

// pointTime is the datetime of one data point: a few seconds before now,
// or (1 in 20) minutes late, out of order.
func pointTime(rng *rand.Rand, now time.Time) int64 {
	if rng.IntN(20) == 0 {
		return now.Add(-time.Duration(1+rng.IntN(30)) * time.Minute).UnixMilli()
	}
	return now.Add(-time.Duration(rng.IntN(30)) * time.Second).UnixMilli()
}

// insight is one machine insight field of the reader schema.
type insight struct {
	field, record, valueField, unitField, unit string
	value                                      func(m *machine, rng *rand.Rand) any
}

var insights = [...]insight{
	{"FuelRemaining", "PercentReading", "Percent", "Unit", "percent", func(m *machine, _ *rand.Rand) any { return round(m.fuel, 1) }},
	{"DefRemaining", "PercentReading", "Percent", "Unit", "percent", func(m *machine, _ *rand.Rand) any { return round(m.def, 1) }},
	{"EngineLoad", "PercentReading", "Percent", "Unit", "percent", func(m *machine, r *rand.Rand) any {
		if !m.engineOn {
			return 0.0
		}
		return round(20+r.Float64()*70, 1)
	}},
	{"BatteryVoltage", "VoltageReading", "Voltage", "VoltageUnit", "volt", func(m *machine, r *rand.Rand) any {
		v := m.model.battery * 1.04
		if m.engineOn {
			v = m.model.battery * 1.16
		}
		return round(v+r.NormFloat64()*0.08, 2)
	}},
	{"ExternalPowerVoltage", "VoltageReading", "Voltage", "VoltageUnit", "volt", func(m *machine, r *rand.Rand) any {
		return round(m.model.battery*1.1+r.NormFloat64()*0.15, 2)
	}},
	{"EngineStatus", "StatusReading", "Status", "", "", func(m *machine, _ *rand.Rand) any { return m.engineOn }},
	{"IgnitionStatus", "StatusReading", "Status", "", "", func(m *machine, _ *rand.Rand) any { return m.engineOn }},
	{"ParkingBrakeEngaged", "StatusReading", "Status", "", "", func(m *machine, _ *rand.Rand) any { return m.parkingBrake }},
	{"Distance", "ValueReading", "Value", "Unit", "km", func(m *machine, _ *rand.Rand) any { return round(m.distance, 2) }},
	{"Speed", "ValueReading", "Value", "Unit", "km/h", func(m *machine, _ *rand.Rand) any { return round(m.route.speed*3.6, 1) }},
	{"EngineSpeed", "ValueReading", "Value", "Unit", "rpm", func(m *machine, r *rand.Rand) any {
		if !m.engineOn {
			return 0.0
		}
		return math.Round(800 + r.Float64()*1200)
	}},
	{"FuelConsumptionRate", "ValueReading", "Value", "Unit", "litre/hour", func(m *machine, r *rand.Rand) any {
		if !m.engineOn {
			return 0.0
		}
		return round(8+r.Float64()*20, 1)
	}},
	{"EngineCoolantTemperature", "TemperatureReading", "Temperature", "TemperatureUnit", "celsius", func(m *machine, r *rand.Rand) any {
		return round(m.coolant+r.NormFloat64()*0.5, 1)
	}},
	{"AmbientAirTemperature", "TemperatureReading", "Temperature", "TemperatureUnit", "celsius", func(m *machine, _ *rand.Rand) any { return round(m.ambient, 1) }},
	{"FuelUsedTotal", "VolumeReading", "Volume", "VolumeUnit", "litre", func(m *machine, _ *rand.Rand) any { return round(m.fuelUsed, 1) }},
	{"HydraulicOilPressure", "PressureReading", "Pressure", "PressureUnit", "bar", func(m *machine, r *rand.Rand) any {
		if !m.engineOn {
			return 0.0
		}
		return round(180+r.Float64()*140, 1)
	}},
	{"EngineOilPressure", "PressureReading", "Pressure", "PressureUnit", "bar", func(m *machine, r *rand.Rand) any {
		if !m.engineOn {
			return 0.0
		}
		return round(3+r.Float64()*2, 2)
	}},
}

// canVariable is one CAN variable a machine may report.
type canVariable struct {
	id         int64
	name, unit string
	pgn        int64
	kind       int // 0 value, 1 min/max, 2 accumulated
}

var canVariables = [...]canVariable{
	{1001, "Engine oil temperature", "celsius", 0xFEEE, 0},
	{1002, "Hydraulic pump pressure", "bar", 0xFF10, 1},
	{1003, "Total fuel used", "litre", 0xFEE9, 2},
	{1004, "Engine speed", "rpm", 0xF004, 1},
	{1005, "Transmission gear", "", 0xF005, 0},
}

var faultCodes = [...][4]string{
	{"110-0", "Engine coolant temperature high - most severe", "90", "Engine ECU"},
	{"100-1", "Engine oil pressure low", "85", "Engine ECU"},
	{"168-18", "Battery potential below normal", "40", "Body controller"},
	{"5246-0", "Aftertreatment SCR operator inducement severity", "70", "Aftertreatment"},
	{"HYD-OVERHEAT", "Hydraulic oil overheating", "warning", "Machine controller"},
}

var accessTypes = [...]string{"DIGITAL_KEY", "ROLLING_PIN", "STATIC_PIN", "KEY_CARD", "KEYPAD_USE"}

// NextTrackunit returns the next Trackunit Machine Insights message as a
// native Go value for hamba avro.Marshal under profile.TrackunitReaderSchema:
// map[string]any records, with every non-null union branch of a record or
// enum type wrapped as map[string]any{"com.trackunit.machineinsights.<Type>":
// value} (primitive branches are plain values, absent fields are left out).
// Machines report in turn. It returns nil when the fleet has no machines.
func (f *Fleet) NextTrackunit() map[string]any {
	if len(f.machines) == 0 {
		return nil
	}
	m := f.machines[f.nextM]
	f.nextM = (f.nextM + 1) % len(f.machines)
	now := f.tick()
	m.advance(f.rng, now)
	return m.message(f.rng, now)
}

func (m *machine) message(rng *rand.Rand, now time.Time) map[string]any {
	msg := make(map[string]any, 40)
	msg["EquipmentHeader"] = union("EquipmentHeader", map[string]any{
		"UnitInstallDateTime": m.install.UnixMilli(),
		"OEMName":             m.model.oem,
		"Model":               m.model.model,
		"EquipmentID":         m.equipmentID,
		"SerialNumber":        m.serial,
		"PIN":                 m.pin,
	})
	msg["Metadata"] = union("Metadata", map[string]any{
		"TelematicSerialNumber":   m.serial,
		"MachineId":               m.id,
		"UnitId":                  m.unitID,
		"ExternalReferenceNumber": m.extRef,
	})

	if rng.IntN(10) != 0 {
		lat, lon, _ := m.route.position()
		loc := map[string]any{
			"Latitude":      round(lat, 7),
			"Longitude":     round(lon, 7),
			"Altitude":      round(20+rng.Float64()*30, 1),
			"AltitudeUnits": "metres",
			"datetime":      pointTime(rng, now),
		}
		if rng.IntN(20) == 0 { // altitude only
			loc["Latitude"], loc["Longitude"] = 0.0, 0.0
		}
		msg["Location"] = union("Location", loc)
		msg["LocationMetadata"] = union("LocationMetadata", map[string]any{
			"AccuracyRadius": round(2+rng.Float64()*8, 1),
			"HighAccuracy":   rng.IntN(3) != 0,
		})
		if rng.IntN(5) == 0 {
			msg["LocationAddress"] = union("LocationAddress", map[string]any{
				"Country":  m.home.country,
				"Zipcode":  m.home.zip,
				"City":     m.home.name,
				"Address":  fmt.Sprintf("Site road %d", 1+rng.IntN(120)),
				"datetime": pointTime(rng, now),
			})
		}
	}

	for i, name := range hoursFields {
		if rng.IntN(5) != 0 {
			msg[name] = union("HoursReading", map[string]any{"Hour": round(m.hours[i], 2), "datetime": pointTime(rng, now)})
		}
	}
	for _, in := range insights {
		if rng.IntN(10) < 3 {
			continue
		}
		r := map[string]any{in.valueField: in.value(m, rng), "datetime": pointTime(rng, now)}
		if in.unitField != "" {
			r[in.unitField] = in.unit
		}
		msg[in.field] = union(in.record, r)
	}

	if rng.IntN(4) == 0 {
		n := 1 + rng.IntN(3)
		cans := make([]any, 0, n)
		for range n {
			cans = append(cans, m.canMessage(rng, now))
		}
		msg["CANMessages"] = cans
	}
	if rng.IntN(3) == 0 {
		msg["AdvancedSensors"] = []any{
			map[string]any{
				"datetime":          pointTime(rng, now),
				"UnitOfMeasurement": "percent",
				"SensorId":          int64(101),
				"SensorName":        "Hydraulic tank level",
				"NumericValue":      round(60+rng.Float64()*35, 1),
				"Source":            union("SensorSource", "MODBUS"),
			},
			map[string]any{
				"datetime":    pointTime(rng, now),
				"SensorId":    int64(202),
				"SensorName":  "Attachment tag",
				"StringValue": [...]string{"BUCKET_STANDARD", "HAMMER", "NONE"}[rng.IntN(3)],
				"Source":      union("SensorSource", "BLUETOOTH_TAG"),
			},
		}
	}
	if rng.IntN(20) == 0 {
		fc := faultCodes[rng.IntN(len(faultCodes))]
		code := map[string]any{
			"CodeIdentifier":  fc[0],
			"CodeDescription": fc[1],
			"CodeSeverity":    fc[2],
			"CodeSource":      fc[3],
			"datetime":        pointTime(rng, now),
		}
		if rng.IntN(3) == 0 {
			code["datetimeCleared"] = now.UnixMilli()
		}
		m.faults++
		msg["FaultCodes"] = []any{code}
	}
	if rng.IntN(30) == 0 {
		op := "UNLOCK"
		if m.engineOn {
			op = "LOCK"
		}
		msg["AccessControlKeyUsage"] = union("AccessControlKeyUsage", map[string]any{
			"OperatorId": fmt.Sprintf("operator-%02d", 1+rng.IntN(12)),
			"KeyId":      fmt.Sprintf("key-%03d", 1+rng.IntN(40)),
			"Operation":  op,
			"AccessType": accessTypes[rng.IntN(len(accessTypes))],
			"Success":    rng.IntN(15) != 0,
			"datetime":   pointTime(rng, now),
		})
	}
	return msg
}

func (m *machine) canMessage(rng *rand.Rand, now time.Time) map[string]any {
	v := canVariables[rng.IntN(len(canVariables))]
	var parsed float64
	var values map[string]any
	switch v.id {
	case 1001:
		parsed = round(m.coolant+5+rng.NormFloat64(), 1)
	case 1002:
		parsed = round(150+rng.Float64()*150, 1)
	case 1003:
		parsed = round(m.fuelUsed, 1)
	case 1004:
		parsed = math.Round(800 + rng.Float64()*1200)
	default:
		parsed = float64(rng.IntN(6))
	}
	switch v.kind {
	case 0:
		values = union("CanValue", map[string]any{"value": parsed})
	case 1:
		values = union("CanMinMaxValue", map[string]any{"MinValue": round(parsed*0.8, 1), "MaxValue": parsed})
	default:
		values = union("CanAccumulatedValue", map[string]any{"value": parsed})
	}
	m.canCounter++
	src := int64(rng.IntN(8))
	bin := make([]byte, 8)
	for i := range bin {
		bin[i] = byte(rng.IntN(256))
	}
	msg := map[string]any{
		"datetime":         pointTime(rng, now),
		"VariableId":       v.id,
		"VariableName":     v.name,
		"ParsedValue":      parsed,
		"CanMessageValues": values,
		"CanMessageData": union("CanMessageData", map[string]any{
			"CanId":           0x18000000 | v.pgn<<8 | src,
			"SourceAddress":   src,
			"BinaryValue":     bin,
			"Counter":         m.canCounter,
			"CapturingPeriod": 60.0,
			"CanType":         [...]string{"Can A", "Can B"}[src%2],
		}),
	}
	if v.unit != "" {
		msg["UnitOfMeasurement"] = v.unit
	}
	if v.id == 1005 {
		msg["ParsedValue"] = [...]string{"N", "1", "2", "3", "4", "R"}[int(parsed)]
	}
	return msg
}
