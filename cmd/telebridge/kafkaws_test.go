package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telebridge/telebridge/internal/testkit"
)

const wsOnlyConfig = `clusters:
  k:
    bootstrap_servers: %q
    security_protocol: SASL_PLAINTEXT
    sasl: {mechanism: PLAIN, username: %s, password: "${TB_TEST_KAFKA_PASSWORD}"}
kafka_ws:
  listen: %q
  cluster: k
  auth: {hs256_secret: "${TB_TEST_WS_SECRET}"}
`

// TestRunKafkaWSOnly runs `telebridge run` with only a kafka_ws section:
// a ticket, a WebSocket stream of a topic, then SIGTERM closes the socket
// with 1001 and exits 0.
func TestRunKafkaWSOnly(t *testing.T) {
	k, err := testkit.StartKafka([]string{"acme.run"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	secret := strings.Repeat("w", 32)
	path := filepath.Join(t.TempDir(), "ws.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, wsOnlyConfig, k.Addr, testkit.KafkaUser, addr), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := command("run", "-c", path)
	cmd.Env = append(cmd.Env, "TB_TEST_KAFKA_PASSWORD="+testkit.KafkaPassword, "TB_TEST_WS_SECRET="+secret)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"service": "acme", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	var ticket string
	waitUntil(t, 30*time.Second, "the ticket endpoint", func() bool {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/kafka-ws/v1/ticket", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var body struct{ Ticket string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		ticket = body.Ticket
		return resp.StatusCode == http.StatusOK
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/kafka-ws/v1/topics/acme.run?ticket="+ticket+"&where=n=gt:1;", nil)
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, logs.String())
	}
	defer ws.CloseNow()
	prod, err := k.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "acme.run", Value: []byte(`{"n":1}`)}, &kgo.Record{Topic: "acme.run", Value: []byte(`{"n":2}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if _, b, err := ws.Read(ctx); err != nil || string(b) != `{"n":2}` {
		t.Fatalf("read %s, %v", b, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("on SIGTERM the socket ended with %v, want 1001", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit %v, want 0\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatal("the logs contain the HS256 secret")
	}
}

// TestRunBridgeAndKafkaWS runs the bridge and the endpoint from one config:
// a subscriber of the bridge's location topic receives filtered objects the
// bridge produced, and one of the raw Avro source topic (granted by a
// tenant pattern) receives it decoded to JSON.
func TestRunBridgeAndKafkaWS(t *testing.T) {
	p := newProcEnv(t)
	path := p.configFile(t, "both", "acme")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	secret := strings.Repeat("b", 32)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "kafka_ws:\n  listen: %q\n  cluster: k\n  registry: tu\n  auth: {hs256_secret: %q}\n  tenants: {acme: [tu.in]}\n", addr, secret)
	f.Close()
	cmd := command("run", "-c", path)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"service": "acme", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	ticket := func() string {
		var tk string
		waitUntil(t, 30*time.Second, "a ticket", func() bool {
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/kafka-ws/v1/ticket", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var body struct{ Ticket string }
			_ = json.NewDecoder(resp.Body).Decode(&body)
			tk = body.Ticket
			return resp.StatusCode == http.StatusOK
		})
		return tk
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	loc, _, err := websocket.Dial(ctx, "ws://"+addr+"/kafka-ws/v1/topics/acme.location?ticket="+ticket()+"&fields=assetId,latitude&where=latitude=gte:-90;", nil)
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, logs.String())
	}
	defer loc.CloseNow()
	raw, _, err := websocket.Dial(ctx, "ws://"+addr+"/kafka-ws/v1/topics/tu.in?ticket="+ticket(), nil)
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, logs.String())
	}
	defer raw.CloseNow()
	raw.SetReadLimit(-1)
	p.preload(t, 20)

	_, b, err := loc.Read(ctx)
	if err != nil {
		t.Fatalf("location: %v\n%s", err, logs.String())
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 2 || m["assetId"] == nil || m["latitude"] == nil {
		t.Fatalf("location frame %s", b)
	}
	_, b, err = raw.Read(ctx)
	if err != nil || !json.Valid(b) || b[0] != '{' {
		t.Fatalf("raw Avro topic frame %q, %v", b, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit %v, want 0\n%s", err, logs.String())
	}
}
