package kafkaws

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/telebridge/telebridge/internal/testkit"
)

var fleetSecret = []byte("fleet-ticket-secret-32-bytes-long!!")

// fleet starts n servers sharing the ticket secret and spent topic.
func fleet(t *testing.T, topic string, n int) []*env {
	t.Helper()
	var out []*env
	for i := 0; i < n; i++ {
		out = append(out, newEnv(t, nil, func(c *Config) {
			c.TicketSecret = fleetSecret
			c.SpentTopic = topic
			c.InstanceID = fmt.Sprintf("inst-%d", i)
		}))
	}
	return out
}

// upgrade tries the WebSocket path with ticket and returns the HTTP status
// (101 on success) and the error text of a refusal.
func upgrade(t *testing.T, e *env, topic, ticket string) (int, string) {
	t.Helper()
	c, resp, err := e.dial(topic, ticket)
	if err == nil {
		_ = c.CloseNow()
		return http.StatusSwitchingProtocols, ""
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	return resp.StatusCode, err.Error()
}

func TestSpentTicketRefusedOnOtherInstance(t *testing.T) {
	topic := "acme.spent-other"
	f := fleet(t, "spent-tickets-other", 2)
	f[0].createTopics(topic)
	tk := f[0].ticket("acme")
	if st, msg := upgrade(t, f[0], topic, tk); st != http.StatusSwitchingProtocols {
		t.Fatalf("first redemption on A: %d %s", st, msg)
	}
	if st, _ := upgrade(t, f[1], topic, tk); st != http.StatusUnauthorized {
		t.Fatalf("replay on B: status %d, want 401", st)
	}
	if st, _ := upgrade(t, f[0], topic, tk); st != http.StatusUnauthorized {
		t.Fatalf("replay on A: status %d, want 401", st)
	}
	// A third instance started afterwards learns it from the topic.
	c := fleet(t, "spent-tickets-other", 1)[0]
	if st, _ := upgrade(t, c, topic, tk); st != http.StatusUnauthorized {
		t.Fatalf("replay on a later instance C: status %d, want 401", st)
	}
	if got := c.srv.Stats().SpentRecords; got < 1 {
		t.Fatalf("C read %d spent records", got)
	}
	// A fresh ticket from B works on C.
	if st, msg := upgrade(t, c, topic, f[1].ticket("acme")); st != http.StatusSwitchingProtocols {
		t.Fatalf("fresh ticket on C: %d %s", st, msg)
	}
}

func TestSpentTicketRaceAdmitsOne(t *testing.T) {
	topic := "acme.spent-race"
	f := fleet(t, "spent-tickets-race", 2)
	f[0].createTopics(topic)
	// Keep one subscriber per instance so the topic feed stays up.
	f[0].mustDial(topic, "acme")
	f[1].mustDial(topic, "acme")
	const rounds = 40
	for i := 0; i < rounds; i++ {
		tk := f[i%2].ticket("acme")
		var wg sync.WaitGroup
		st := make([]int, 2)
		for j := range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); st[j], _ = upgrade(t, f[j], topic, tk) }()
		}
		wg.Wait()
		ok := 0
		for _, s := range st {
			switch s {
			case http.StatusSwitchingProtocols:
				ok++
			case http.StatusUnauthorized:
			default:
				t.Fatalf("round %d: status %d", i, s)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d instances admitted the ticket (statuses %v), want exactly 1", i, ok, st)
		}
	}
}

func TestSpentTopicIgnoresTombstonesAndJunk(t *testing.T) {
	const spent = "spent-tickets-junk"
	topic := "acme.spent-junk"
	e := fleet(t, spent, 1)[0]
	e.createTopics(topic)
	tk := e.ticket("acme")
	raw, _ := hex.DecodeString(tk)
	key := []byte(hex.EncodeToString(raw[24:32]))
	if err := e.prod.ProduceSync(context.Background(),
		&kgo.Record{Topic: spent, Key: key, Value: nil},
		&kgo.Record{Topic: spent, Key: key, Value: []byte(`not json`)},
		&kgo.Record{Topic: spent, Key: key, Value: []byte(fmt.Sprintf(`{"redemption":"%032x","expires":1}`, 7))},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if st, msg := upgrade(t, e, topic, tk); st != http.StatusSwitchingProtocols {
		t.Fatalf("ticket after a tombstone, junk and an expired record: %d %s", st, msg)
	}
	if st, _ := upgrade(t, e, topic, tk); st != http.StatusUnauthorized {
		t.Fatalf("replay: %d", st)
	}
}

func TestSpentTopicUnreachableFailsClosed(t *testing.T) {
	k, err := testkit.StartKafka(nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			k.Close()
		}
	}()
	e := newEnv(t, nil, func(c *Config) {
		c.Kafka = k.Librdkafka()
		c.TicketSecret = fleetSecret
		c.SpentTopic = "spent-tickets-down"
		c.SpentWait = 500 * time.Millisecond
	})
	tk := e.ticket("acme")
	k.Close()
	closed = true
	st, msg := upgrade(t, e, "acme.down", tk)
	if st != http.StatusServiceUnavailable {
		t.Fatalf("status %d (%s), want 503", st, msg)
	}
	if got := e.srv.Stats().TicketsUnchecked; got != 1 {
		t.Fatalf("TicketsUnchecked = %d", got)
	}
	// The ticket stays spent on this instance.
	if st, _ := upgrade(t, e, "acme.down", tk); st != http.StatusUnauthorized {
		t.Fatalf("retry of the same ticket: %d, want 401", st)
	}
}

func TestSpentTopicSetupErrors(t *testing.T) {
	_, err := New(Config{Auth: Auth{HS256Secret: testSecret}, SpentTopic: "x",
		Kafka: map[string]string{"bootstrap.servers": "127.0.0.1:1", "broker.address.family": "v4"}})
	if err == nil || !strings.Contains(err.Error(), "spent-ticket topic x") {
		t.Fatalf("unreachable cluster: %v", err)
	}
	k, err := sharedKafka()
	if err != nil {
		t.Fatal(err)
	}
	short := fmt.Sprintf("spent-short-%d", time.Now().UnixNano())
	if err := k.Cluster.CreateTopic(short, 1, map[string]string{"retention.ms": "1000"}); err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{Auth: Auth{HS256Secret: testSecret}, SpentTopic: short, Kafka: k.Librdkafka()})
	if err == nil || !strings.Contains(err.Error(), "retention.ms=1000 is shorter than the ticket TTL") {
		t.Fatalf("short retention: %v", err)
	}
}
