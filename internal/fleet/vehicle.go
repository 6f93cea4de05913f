package fleet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// vehicleModel is a kind of passenger car.
type vehicleModel struct {
	brand, model, series, modelRange, body, engine, modelKey, propulsion string
	tank, power, capacity                                                int
}

var vehicleModels = [...]vehicleModel{
	{"BMW", "118i", "1", "F40", "Sports Hatch", "B38C", "7K31", "BE", 42, 100, 1499},
	{"BMW", "320d", "3", "G20", "Sedan", "B47D", "5F11", "DI", 59, 140, 1995},
	{"BMW", "X1 sDrive18i", "X1", "U11", "SAV", "B38A", "11EF", "BE", 54, 100, 1499},
	{"MINI", "Cooper S", "MINI", "F56", "Hatch", "B48A", "XR71", "BE", 44, 131, 1998},
}

var colours = [...][2]string{
	{"C3N", "STORM BAY METALLIC"}, {"475", "BLACK SAPPHIRE METALLIC"},
	{"300", "ALPINE WHITE"}, {"C31", "PORTIMAO BLUE METALLIC"},
}

const vinAlphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

// vehicle is one simulated MOBITO vehicle.
type vehicle struct {
	vin, fleetID string
	model        vehicleModel
	colour       [2]string
	country      string
	built        time.Time
	route        orbit
	last         time.Time

	driving, locked     bool
	fuel                float64 // litres
	mileage             float64 // km
	coolant             float64 // celsius
	battery             float64 // volts
	tires               [4]float64
	serviceKm, checkKm  float64
	contractDays        int
	sunRoof, navigation bool
}

func newVehicle(rng *rand.Rand, i int, now time.Time) *vehicle {
	vm := vehicleModels[rng.IntN(len(vehicleModels))]
	c := cities[rng.IntN(len(cities))]
	var vin strings.Builder
	vin.WriteString("WBA")
	for range 14 {
		vin.WriteByte(vinAlphabet[rng.IntN(len(vinAlphabet))])
	}
	v := &vehicle{
		vin:          vin.String(),
		fleetID:      fmt.Sprintf("fleet-%02d", i%3+1),
		model:        vm,
		colour:       colours[rng.IntN(len(colours))],
		country:      c.country,
		built:        now.AddDate(-1-rng.IntN(4), -rng.IntN(12), 0).Truncate(24 * time.Hour),
		route:        newOrbit(rng, c, 3000, 2000, 12000),
		last:         now,
		locked:       true,
		fuel:         float64(vm.tank) * (0.2 + rng.Float64()*0.8),
		mileage:      5000 + rng.Float64()*60000,
		battery:      12.5,
		serviceKm:    2000 + rng.Float64()*20000,
		checkKm:      10000 + rng.Float64()*30000,
		contractDays: 30 + rng.IntN(700),
		sunRoof:      rng.IntN(3) == 0,
		navigation:   rng.IntN(4) != 0,
	}
	v.coolant = 10
	for t := range v.tires {
		v.tires[t] = 200 + rng.Float64()*30
	}
	return v
}

// advance moves the vehicle's state on to now: it drives (about 50 km/h)
// or stands parked and locked.
func (v *vehicle) advance(rng *rand.Rand, now time.Time) {
	dt := now.Sub(v.last).Seconds()
	v.last = now
	if rng.IntN(25) == 0 {
		v.driving = !v.driving
	}
	if v.driving {
		v.locked = false
		v.route.speed = 10 + rng.Float64()*12 // m/s
		km := v.route.advance(dt) / 1000
		v.mileage += km
		v.serviceKm -= km
		v.checkKm -= km
		v.fuel -= km * 0.065
		v.coolant += (90 - v.coolant) * 0.3
		v.battery = 14.1 + rng.NormFloat64()*0.05
	} else {
		v.route.speed = 0
		v.locked = v.locked || rng.IntN(3) == 0
		v.coolant += (12 - v.coolant) * 0.05
		v.battery = 12.55 + rng.NormFloat64()*0.05
	}
	if v.fuel < 5 {
		v.fuel = float64(v.model.tank) * 0.95
	}
	for t := range v.tires {
		v.tires[t] = clamp(v.tires[t]+rng.NormFloat64()*0.3, 150, 260)
	}
	if v.serviceKm < 0 {
		v.serviceKm = 25000
	}
	if v.checkKm < 0 {
		v.checkKm = 40000
	}
}

// mobitoMessage has the members of the MOBITO Push API sample, in the same
// order and with the same JSON types.
type mobitoMessage struct {
	DisplayUnitDistance                 string `json:"display_unit_distance"`
	PositionCanBeTrusted                bool   `json:"position_can_be_trusted"`
	DistanceUntilService                string `json:"distance_until_service"`
	ServiceDate                         int    `json:"service_date"`
	ConditionBasedServicesCount         int    `json:"condition_based_services_count"`
	VehicleCheckStatus                  string `json:"vehicle_check_status"`
	VehicleCheckStatusRemainingDistance int    `json:"vehicle_check_status_remaining_distance"`
	VehicleCheckStatusDate              string `json:"vehicle_check_status_date"`
	BrakeFluidDueDate                   string `json:"brake_fluid_due_date"`
	VehicleInspectionDueDate            string `json:"vehicle_inspection_due_date"`
	EngineOilRemainingDistance          int    `json:"engine_oil_remaining_distance"`
	BrakeFluidStatus                    string `json:"brake_fluid_status"`
	VehicleInspectionStatus             string `json:"vehicle_inspection_status"`
	CodeCBSHUAU                         int    `json:"code_CBSHUAU"`
	FuelLevel                           int    `json:"fuel_level"`
	TirePressureFrontLeft               string `json:"tire_pressure_front_left"`
	TirePressureRearLeft                string `json:"tire_pressure_rear_left"`
	TirePressureFrontRight              string `json:"tire_pressure_front_right"`
	TirePressureRearRight               string `json:"tire_pressure_rear_right"`
	TirePressureTargetFrontLeft         string `json:"tire_pressure_target_front_left"`
	DtcData                             string `json:"dtc_data"`
	TirePressureTargetFrontRight        string `json:"tire_pressure_target_front_right"`
	AvgDistanceShortTerm                string `json:"avg_distance_short_term"`
	AvgDistanceLongTerm                 string `json:"avg_distance_long_term"`
	TirePressureTargetRearLeft          string `json:"tire_pressure_target_rear_left"`
	TirePressureTargetRearRight         string `json:"tire_pressure_target_rear_right"`
	AverageMileagePerWeek               int    `json:"average_mileage_per_week"`
	MileageForecast                     int    `json:"mileage_forecast"`
	RemainingContractDays               int    `json:"remaining_contract_days"`
	TankCapacity                        string `json:"tank_capacity"`
	ServiceStatus                       string `json:"service_status"`
	ServiceDueDate                      string `json:"service_due_date"`
	Mileage                             string `json:"mileage"`
	Model                               string `json:"model"`
	FuelRemainingRange                  string `json:"fuel_remaining_range"`
	TeleserviceStatus                   string `json:"teleservice_status"`
	EngineOilDueDate                    string `json:"engine_oil_due_date"`
	EngineOilStatus                     string `json:"engine_oil_status"`
	YellowServiceTime                   int    `json:"yellow_service_time"`
	BasicHasSunRoof                     bool   `json:"basic_has_sun_roof"`
	BasicConstructionDate               string `json:"basic_construction_date"`
	BasicEngine                         string `json:"basic_engine"`
	BasicColorCode                      string `json:"basic_color_code"`
	LegalInspectionDate                 string `json:"legal_inspection_date"`
	LscTriggerReason                    string `json:"lsc_trigger_reason"`
	BasicPropulsionType                 string `json:"basic_propulsion_type"`
	BasicCountryCode                    string `json:"basic_country_code"`
	BasicHeadUnit                       string `json:"basic_head_unit"`
	Brand                               string `json:"brand"`
	YellowServiceDistance               string `json:"yellow_service_distance"`
	BatteryVoltage                      string `json:"battery_voltage"`
	EngineCoolantTemperature            int    `json:"engine_coolant_temperature"`
	VehicleIsLocked                     string `json:"vehicle_is_locked"`
	CheckControlMessages                string `json:"check_control_messages"`
	Latitude                            string `json:"latitude"`
	Longitude                           string `json:"longitude"`
	Altitude                            string `json:"altitude"`
	Heading                             string `json:"heading"`
	RemainingFuel                       string `json:"remaining_fuel"`
	BasicModelKey                       string `json:"basic_model_key"`
	BasicHasNavi                        bool   `json:"basic_has_Navi"`
	Series                              string `json:"series"`
	ColourCode                          string `json:"colour_code"`
	NumberOfDoors                       int    `json:"number_of_doors"`
	Steering                            string `json:"steering"`
	ExtraEquipment                      string `json:"extra_equipment"`
	Power                               string `json:"power"`
	Capacity                            int    `json:"capacity"`
	DataQuality                         string `json:"data_quality"`
	BasicBodyType                       string `json:"basic_body_type"`
	BasicModelRange                     string `json:"basic_model_range"`
	DoorsFrontLeftIsOpen                string `json:"doors_front_left_is_open"`
	DoorsRearLeftIsOpen                 string `json:"doors_rear_left_is_open"`
	DoorsRontRightIsOpen                string `json:"doors_ront_right_is_open"` // sic, as in the feed
	DoorsRearRightIsOpen                string `json:"doors_rear_right_is_open"`
	VIN                                 string `json:"vin"`
	FleetID                             string `json:"fleet_id"`
	UUID                                string `json:"uuid"`
}

func (v *vehicle) message(rng *rand.Rand) *mobitoMessage {
	now := v.last
	lat, lon, heading := v.route.position()
	tank := float64(v.model.tank)
	fuelPct := int(math.Round(100 * v.fuel / tank))
	rangeKm := v.fuel / 0.065
	doorOpen := func() string { return strconv.FormatBool(!v.driving && !v.locked && rng.IntN(6) == 0) }
	month := func(d time.Duration) string { return now.Add(d).Format("2006-01") }
	locked := "UNLOCKED"
	if v.locked {
		locked = "LOCKED"
	}
	quality := "UP_TO_DATE"
	if rng.IntN(15) == 0 {
		quality = "OUTDATED"
	}
	dtc := "[]"
	checkControl := "[]"
	if rng.IntN(5) == 0 {
		dtc = "[3178A, B7F34E, 804070]"
		checkControl = "[955 Tire pressure notification]"
	}
	target := [4]int{234, 234, 214, 214}
	return &mobitoMessage{
		DisplayUnitDistance:                 "km",
		PositionCanBeTrusted:                rng.IntN(30) != 0,
		DistanceUntilService:                strconv.Itoa(int(v.serviceKm)),
		ServiceDate:                         int(v.serviceKm / 150),
		ConditionBasedServicesCount:         9,
		VehicleCheckStatus:                  "OK",
		VehicleCheckStatusRemainingDistance: int(v.checkKm),
		VehicleCheckStatusDate:              month(700 * 24 * time.Hour),
		BrakeFluidDueDate:                   month(400 * 24 * time.Hour),
		VehicleInspectionDueDate:            month(800 * 24 * time.Hour),
		EngineOilRemainingDistance:          int(v.serviceKm),
		BrakeFluidStatus:                    "OK",
		VehicleInspectionStatus:             "OK",
		CodeCBSHUAU:                         4,
		FuelLevel:                           fuelPct,
		TirePressureFrontLeft:               strconv.Itoa(int(v.tires[0])),
		TirePressureRearLeft:                strconv.Itoa(int(v.tires[1])),
		TirePressureFrontRight:              strconv.Itoa(int(v.tires[2])),
		TirePressureRearRight:               strconv.Itoa(int(v.tires[3])),
		TirePressureTargetFrontLeft:         strconv.Itoa(target[0]),
		DtcData:                             dtc,
		TirePressureTargetFrontRight:        strconv.Itoa(target[1]),
		AvgDistanceShortTerm:                fmtNum(math.Round(600+rng.Float64()*200), 1),
		AvgDistanceLongTerm:                 "680.0",
		TirePressureTargetRearLeft:          strconv.Itoa(target[2]),
		TirePressureTargetRearRight:         strconv.Itoa(target[3]),
		AverageMileagePerWeek:               1082,
		MileageForecast:                     int(v.mileage) + 7000,
		RemainingContractDays:               v.contractDays - int(now.Sub(v.built).Hours()/24)%30,
		TankCapacity:                        fmtNum(tank, 1),
		ServiceStatus:                       "OK",
		ServiceDueDate:                      month(200 * 24 * time.Hour),
		Mileage:                             fmtNum(math.Floor(v.mileage), 1),
		Model:                               v.model.model,
		FuelRemainingRange:                  fmtNum(math.Floor(rangeKm), 1),
		TeleserviceStatus:                   "Initial status",
		EngineOilDueDate:                    month(200 * 24 * time.Hour),
		EngineOilStatus:                     "OK",
		YellowServiceTime:                   4,
		BasicHasSunRoof:                     v.sunRoof,
		BasicConstructionDate:               v.built.Format(time.RFC3339),
		BasicEngine:                         v.model.engine,
		BasicColorCode:                      v.colour[0],
		LegalInspectionDate:                 now.AddDate(2, 0, 0).Format("02.01.2006") + " 00:00:00 UTC",
		LscTriggerReason:                    [...]string{"CONV", "DOOR_OPEN", "ENGINE_OFF", "TIMER"}[rng.IntN(4)],
		BasicPropulsionType:                 v.model.propulsion,
		BasicCountryCode:                    v.country,
		BasicHeadUnit:                       "HU_MGU",
		Brand:                               v.model.brand,
		YellowServiceDistance:               "2000",
		BatteryVoltage:                      fmtNum(v.battery, 2),
		EngineCoolantTemperature:            int(math.Round(v.coolant)),
		VehicleIsLocked:                     locked,
		CheckControlMessages:                checkControl,
		Latitude:                            strconv.FormatFloat(lat, 'f', -1, 64),
		Longitude:                           strconv.FormatFloat(lon, 'f', -1, 64),
		Altitude:                            fmtNum(math.Round(5+rng.Float64()*60), 1),
		Heading:                             fmtNum(math.Mod(math.Round(heading), 360), 1),
		RemainingFuel:                       fmtNum(math.Floor(v.fuel), 1),
		BasicModelKey:                       v.model.modelKey,
		BasicHasNavi:                        v.navigation,
		Series:                              v.model.series,
		ColourCode:                          v.colour[1],
		NumberOfDoors:                       5,
		Steering:                            "LL",
		ExtraEquipment:                      "01CB,01DF,01DZ,0230,0249,026M,02PA,02TF,02VB",
		Power:                               strconv.Itoa(v.model.power),
		Capacity:                            v.model.capacity,
		DataQuality:                         quality,
		BasicBodyType:                       v.model.body,
		BasicModelRange:                     v.model.modelRange,
		DoorsFrontLeftIsOpen:                doorOpen(),
		DoorsRearLeftIsOpen:                 doorOpen(),
		DoorsRontRightIsOpen:                doorOpen(),
		DoorsRearRightIsOpen:                doorOpen(),
		VIN:                                 v.vin,
		FleetID:                             v.fleetID,
		UUID:                                randomUUID(rng),
	}
}
