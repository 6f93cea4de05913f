package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"
)

// TestDemoKafkaWSInstructionsWork follows the Kafka WS lines the demo
// prints: the token gets a ticket from the printed URL, and the printed
// WebSocket URL streams filtered location objects.
func TestDemoKafkaWSInstructionsWork(t *testing.T) {
	var buf bytes.Buffer
	w := &syncWriter{w: &buf}
	f := &demoFlags{duration: 30 * time.Second, rate: 20, machines: 3, vehicles: 6, seed: 1, configOut: filepath.Join(t.TempDir(), "demo.yaml")}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, w, f, zap.NewNop()) }()
	defer func() { cancel(); <-done }()

	tokenRe := regexp.MustCompile(`TOKEN=(\S+)`)
	curlRe := regexp.MustCompile(`curl -s -H "Authorization: Bearer \$TOKEN" (\S+) \|`)
	wsRe := regexp.MustCompile(`websocat "([^"]+)"`)
	var out string
	deadline := time.Now().Add(20 * time.Second)
	for {
		w.mu.Lock()
		out = buf.String()
		w.mu.Unlock()
		if wsRe.MatchString(out) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	tok, curl, wsm := tokenRe.FindStringSubmatch(out), curlRe.FindStringSubmatch(out), wsRe.FindStringSubmatch(out)
	if tok == nil || curl == nil || wsm == nil {
		t.Fatalf("the demo did not print the Kafka WS example:\n%s", out)
	}
	req, _ := http.NewRequest(http.MethodGet, curl[1], nil)
	req.Header.Set("Authorization", "Bearer "+tok[1])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Ticket string }
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(body.Ticket) != 64 {
		t.Fatalf("ticket: status %d, %v, %+v", resp.StatusCode, err, body)
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer rcancel()
	ws, _, err := websocket.Dial(rctx, strings.Replace(wsm[1], "$TICKET", body.Ticket, 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	allowed := map[string]bool{"assetId": true, "whenCreated": true, "latitude": true, "longitude": true, "heading": true}
	for range 2 {
		_, b, err := ws.Read(rctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			if !allowed[k] {
				t.Errorf("field %q was not selected: %s", k, b)
			}
		}
		if h, ok := m["heading"].(float64); !ok || h < 90 {
			t.Errorf("where heading=gte:90 let through %s", b)
		}
	}
}
