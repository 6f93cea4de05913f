package bridge

import (
	"fmt"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/sinks"
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

// drainLogs forwards librdkafka's log events (go.logs.channel.enable) to
// zap at debug level for chatty levels and warn for errors, throttled. It
// returns when logs is closed.
func drainLogs(logs <-chan kafka.LogEvent, log *zap.Logger, th *sinks.LogLimiter) {
	for ev := range logs {
		if ev.Level > 4 {
			log.Debug("librdkafka", zap.String("client", ev.Name), zap.String("tag", ev.Tag), zap.String("msg", ev.Message))
			continue
		}
		if ok, n := th.Allow(ev.Tag+ev.Message, time.Now()); ok {
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
