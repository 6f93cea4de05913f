package schemas

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jsonName returns the JSON member name of a struct field.
func jsonName(f reflect.StructField) (name string, omitempty bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	return name, opts == "omitempty"
}

// zeroField sets the field of o whose JSON name is name to its zero value.
func zeroField(t *testing.T, o Object, name string) {
	t.Helper()
	v := reflect.ValueOf(o).Elem()
	for i := range v.NumField() {
		if n, _ := jsonName(v.Type().Field(i)); n == name {
			v.Field(i).SetZero()
			return
		}
	}
	t.Fatalf("%s has no field %q", o.ObjectType(), name)
}

func TestValidateGenerated(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, typ := range AllTypes() {
		for i := range 300 {
			if err := genObject(r, typ, i%3).Validate(); err != nil {
				t.Fatalf("%s: generated object invalid: %v", typ, err)
			}
		}
	}
}

// TestValidateMissingRequired zeroes each required field in turn; Validate
// must name it. Fields whose zero value is legitimate are expected valid.
func TestValidateMissingRequired(t *testing.T) {
	zeroIsValid := map[string]bool{"value": true, "latitude": true, "longitude": true, "payloadType": true}
	r := rand.New(rand.NewPCG(1, 1))
	for _, typ := range AllTypes() {
		for _, field := range RequiredFieldNames(typ) {
			t.Run(string(typ)+"/"+field, func(t *testing.T) {
				o := genObject(r, typ, 2)
				zeroField(t, o, field)
				err := o.Validate()
				if zeroIsValid[field] {
					if err != nil {
						t.Fatalf("zero %s should be valid, got %v", field, err)
					}
					return
				}
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Validate() = %v, want *ValidationError", err)
				}
				if ve.Type != typ || ve.Field != field {
					t.Errorf("got type %q field %q, want %q %q (%v)", ve.Type, ve.Field, typ, field, err)
				}
				if !strings.HasPrefix(err.Error(), string(typ)+`: field "`+field+`": `) {
					t.Errorf("message %q", err)
				}
			})
		}
	}
}

func TestValidateValues(t *testing.T) {
	when := time.Date(2024, 3, 20, 14, 30, 0, 0, time.UTC)
	loc := func(mod func(*Location)) Object {
		l := &Location{ID: 1, AssetID: "a", OwnerID: "o", WhenCreated: when, Latitude: 1, Longitude: 2}
		mod(l)
		return l
	}
	sensor := func(typ string) Object {
		return &SensorData{ID: 1, AssetID: "a", OwnerID: "o", SensorID: "s", SensorType: "t", WhenCreated: when, Type: typ}
	}
	tests := []struct {
		name    string
		o       Object
		wantErr string // "" means valid
	}{
		{"lat too big", loc(func(l *Location) { l.Latitude = 91.2 }), `location: field "latitude": 91.2 is outside [-90, 90]`},
		{"lat edge", loc(func(l *Location) { l.Latitude = -90 }), ""},
		{"lat NaN", loc(func(l *Location) { l.Latitude = math.NaN() }), `location: field "latitude": NaN is not a finite number`},
		{"lon too small", loc(func(l *Location) { l.Longitude = -180.5 }), `location: field "longitude": -180.5 is outside [-180, 180]`},
		{"lon Inf", loc(func(l *Location) { l.Longitude = math.Inf(1) }), `location: field "longitude": +Inf is not a finite number`},
		{"lon edge", loc(func(l *Location) { l.Longitude = 180 }), ""},
		{"altitude NaN", loc(func(l *Location) { l.Altitude = ptr(math.NaN()) }), `location: field "altitude": NaN is not a finite number`},
		{"altitude negative", loc(func(l *Location) { l.Altitude = ptr(-400.0) }), ""},
		{"speed -Inf", loc(func(l *Location) { l.Speed = ptr(math.Inf(-1)) }), `location: field "speed": -Inf is not a finite number`},
		{"heading 360", loc(func(l *Location) { l.Heading = ptr(360.0) }), ""},
		{"heading 0", loc(func(l *Location) { l.Heading = ptr(0.0) }), ""},
		{"heading 361", loc(func(l *Location) { l.Heading = ptr(361.0) }), `location: field "heading": 361 is outside [0, 360]`},
		{"heading negative", loc(func(l *Location) { l.Heading = ptr(-1.0) }), `location: field "heading": -1 is outside [0, 360]`},
		{"negative id", loc(func(l *Location) { l.ID = -3 }), `location: field "id": record id must be > 0, got -3`},
		{"year 10000", loc(func(l *Location) { l.WhenCreated = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), `location: field "whenCreated": year 10000 is outside [0, 9999]`},
		{"sensor DECIMAL", sensor(ValueDecimal), ""},
		{"sensor INTEGER", sensor(ValueInteger), ""},
		{"sensor BOOLEAN", sensor(ValueBoolean), ""},
		{"sensor STRING", sensor(ValueString), ""},
		{"sensor lower case", sensor("decimal"), `sensordata: field "type": "decimal" is not one of DECIMAL, INTEGER, BOOLEAN, STRING`},
		{"sensor empty type", sensor(""), `sensordata: field "type": is required`},
		{"nil asset", (*Asset)(nil), "asset: object is nil"},
		{"nil location", (*Location)(nil), "location: object is nil"},
		{"nil sensor", (*SensorData)(nil), "sensordata: object is nil"},
		{"nil reefer", (*ReeferData)(nil), "reeferdata: object is nil"},
		{"nil genset", (*GensetData)(nil), "gensetdata: object is nil"},
		{"nil gtoem", (*GtoemData)(nil), "gtoemdata: object is nil"},
		{"empty data is fine", &GtoemData{ID: 1, AssetID: "a", OwnerID: "o", WhenCreated: when, Data: map[string]any{}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want prefix %q", err, tt.wantErr)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("not a *ValidationError: %T", err)
			}
		})
	}
}
