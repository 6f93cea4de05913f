package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge"
	"github.com/telebridge/telebridge/bridge/config"
)

// The demo's Kafka WS endpoint: an HS256 secret that protects nothing but
// the loopback demo (which is why it is printed), and the tenant of the
// demo token, which by the prefix rule reads globe-tracker.* topics.
const (
	demoWSSecret      = "telebridge-demo-kafka-ws-hs256-secret"
	demoWSTenant      = "globe-tracker"
	demoWSDefaultAddr = "127.0.0.1:8081"
	demoWSTokenTTL    = 24 * time.Hour
)

// demoKafkaWSConfig is the kafka_ws section appended to the demo config.
func demoKafkaWSConfig(listen string) string {
	return fmt.Sprintf(`kafka_ws:               # WebSocket streams of the push topics (see README "Kafka WS endpoint")
  listen: "%s"
  cluster: lake
  registry: trackunit     # so the raw Trackunit topic can be streamed too (Avro -> JSON)
  auth:
    hs256_secret: "${TELEBRIDGE_DEMO_WS_SECRET:-%s}"
  connection: {lifetime: 2h, send_queue: 256, ping_interval: 30s}
  tenants:
    globe-tracker: [%s, %s]   # raw input topics, beside the globe-tracker.* prefix
`, listen, demoWSSecret, demoTrackunitTopic, demoMobitoTopic)
}

// demoWSListen returns the address the demo endpoint listens on: want, or
// a free loopback port when want is empty or busy.
func demoWSListen(want string) string {
	if want != "" {
		if ln, err := net.Listen("tcp", want); err == nil {
			_ = ln.Close()
			return want
		}
	}
	return "127.0.0.1:0"
}

// startDemoKafkaWS binds and serves the endpoint until ctx ends; wg tracks
// the serving goroutine. It returns the endpoint's base URL.
func startDemoKafkaWS(ctx context.Context, cfg *config.Config, log *zap.Logger, wg *sync.WaitGroup) (string, error) {
	ws, err := bridge.NewKafkaWS(cfg, log)
	if err != nil {
		return "", err
	}
	if err := ws.Listen(); err != nil {
		return "", err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := ws.Run(ctx); err != nil {
			log.Error("kafka-ws endpoint stopped", zap.Error(err))
		}
	}()
	return ws.URL(), nil
}

// printKafkaWSExample prints a demo JWT and ready-to-paste commands: a
// ticket with curl, then a WebSocket stream of one fleet's positions
// with fields and where.
func printKafkaWSExample(out io.Writer, base string) error {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"service": demoWSTenant,
		"sub":     "demo-user",
		"iat":     time.Now().Unix(),
		"exp":     time.Now().Add(demoWSTokenTTL).Unix(),
	}).SignedString([]byte(demoWSSecret))
	if err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	ws := "ws" + base[len("http"):]
	_, err = fmt.Fprintf(out, `Kafka WS endpoint     %s   (HS256 demo secret %q, tenant claim "service")
Stream a push topic over WebSocket from another terminal (ticket: single use, valid 60 s):
  TOKEN=%s
  TICKET=$(curl -s -H "Authorization: Bearer $TOKEN" %s/kafka-ws/v1/ticket | sed 's/.*"ticket":"\([0-9a-f]*\)".*/\1/')
  websocat "%s/kafka-ws/v1/topics/globe-tracker.events.location?ticket=$TICKET&fields=assetId,whenCreated,latitude,longitude,heading&where=ownerId=in:^fleet-01$;heading=gte:90;"
`, base, demoWSSecret, tok, base, ws)
	return err
}
