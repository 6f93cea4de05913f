package bridge

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"
)

// configMap converts librdkafka properties into a kafka.ConfigMap, adding
// overrides last.
func configMap(base map[string]string, overrides map[string]kafka.ConfigValue) *kafka.ConfigMap {
	cm := kafka.ConfigMap{}
	for k, v := range base {
		cm[k] = v
	}
	for k, v := range overrides {
		cm[k] = v
	}
	return &cm
}

// throttle remembers when each distinct message was last let through, so a
// broker outage or an authentication failure that librdkafka reports every
// few hundred milliseconds is logged once per window, with a count of what
// was suppressed.
type throttle struct {
	window time.Duration
	mu     sync.Mutex
	seen   map[string]*throttled
}

type throttled struct {
	last       time.Time
	suppressed int
}

func newThrottle(window time.Duration) *throttle {
	return &throttle{window: window, seen: make(map[string]*throttled)}
}

// allow reports whether key may be logged now, and how many occurrences
// were suppressed since it was last allowed.
func (t *throttle) allow(key string, now time.Time) (bool, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.seen[key]
	if !ok {
		if len(t.seen) > 1024 { // bound memory under a storm of distinct texts
			clear(t.seen)
		}
		t.seen[key] = &throttled{last: now}
		return true, 0
	}
	if now.Sub(e.last) < t.window {
		e.suppressed++
		return false, 0
	}
	n := e.suppressed
	e.last, e.suppressed = now, 0
	return true, n
}

// drainLogs forwards librdkafka's log events (go.logs.channel.enable) to
// zap at debug level for chatty levels and warn for errors, throttled. It
// returns when logs is closed.
func drainLogs(logs <-chan kafka.LogEvent, log *zap.Logger, th *throttle) {
	for ev := range logs {
		if ev.Level > 4 {
			log.Debug("librdkafka", zap.String("client", ev.Name), zap.String("tag", ev.Tag), zap.String("msg", ev.Message))
			continue
		}
		if ok, n := th.allow(ev.Tag+ev.Message, time.Now()); ok {
			fields := []zap.Field{zap.String("client", ev.Name), zap.String("tag", ev.Tag), zap.String("msg", ev.Message)}
			if n > 0 {
				fields = append(fields, zap.Int("suppressed", n))
			}
			log.Warn("librdkafka", fields...)
		}
	}
}

// isAuthError reports whether err is an authentication or authorization
// failure that retrying cannot fix. Some brokers close the connection on
// bad credentials instead of answering, which librdkafka reports as a
// transport failure whose text names the SASL failure.
func isAuthError(err kafka.Error) bool {
	switch err.Code() {
	case kafka.ErrAuthentication, kafka.ErrSaslAuthenticationFailed,
		kafka.ErrTopicAuthorizationFailed, kafka.ErrGroupAuthorizationFailed,
		kafka.ErrClusterAuthorizationFailed:
		return true
	}
	return strings.Contains(err.Error(), "SASL authentication error") || strings.Contains(err.Error(), "Authentication failed")
}

// authError turns an authentication failure into the one clear error the
// bridge exits with.
func authError(what, cluster, user string, err kafka.Error) error {
	hint := "check the cluster's sasl.username and sasl.password (and sasl.mechanism)"
	switch err.Code() {
	case kafka.ErrTopicAuthorizationFailed, kafka.ErrGroupAuthorizationFailed, kafka.ErrClusterAuthorizationFailed:
		hint = "the credentials were accepted but lack the ACLs this needs"
	}
	if user != "" {
		return fmt.Errorf("%s: cluster %q refused user %q: %s; %s", what, cluster, user, err.String(), hint)
	}
	return fmt.Errorf("%s: cluster %q: %s; %s", what, cluster, err.String(), hint)
}
