package bridge

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/schemas"
	"github.com/telebridge/telebridge/sinks"
	"github.com/telebridge/telebridge/sinks/mqttsink"
)

// newMQTTSink builds an MQTT push sink from a validated sink config.
// MQTT_SET_EVENT_ID is read as validate reads it (config.Config.EventIDInjection).
func (b *Bridge) newMQTTSink(sc *config.Sink) (sinks.Sink, error) {
	m := sc.MQTT
	if m == nil {
		return nil, fmt.Errorf("sinks %s: type mqtt without mqtt settings", sc.Name)
	}
	inj, err := b.cfg.EventIDInjection(sc)
	if err != nil {
		return nil, fmt.Errorf("sinks %s: %w", sc.Name, err)
	}
	cfg := mqttsink.Config{
		Name:            sc.Name,
		Brokers:         m.Brokers,
		ClientID:        m.ClientID,
		Username:        m.Username,
		Password:        m.Password.Reveal(),
		Topic:           sc.Topic,
		Retain:          m.Retain,
		EventIDField:    inj.Field,
		Retry:           retryPolicy(sc.Retry),
		DeliveryTimeout: sc.DeliveryTimeout,
		ConnectTimeout:  m.ConnectTimeout,
		KeepAlive:       m.KeepAlive,
		SessionExpiry:   m.SessionExpiry,
		MaxInFlight:     sc.MaxInFlight,
		Logger:          b.log.With(zap.String("sink", sc.Name)),
		Observer:        b.opts.Observer,
	}
	qos := byte(m.QoS)
	cfg.QoS = &qos
	if t := m.TLS; t != nil {
		cfg.TLS = mqttsink.TLS{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	if len(m.QoSByType) > 0 {
		cfg.TypeQoS = make(map[schemas.Type]byte, len(m.QoSByType))
		for t, q := range m.QoSByType {
			cfg.TypeQoS[schemas.Type(t)] = byte(q)
		}
	}
	if len(m.TopicByType) > 0 {
		cfg.TypeTopics = make(map[schemas.Type]string, len(m.TopicByType))
		for t, topic := range m.TopicByType {
			cfg.TypeTopics[schemas.Type(t)] = topic
		}
	}
	s, err := mqttsink.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sinks %s: %w", sc.Name, err)
	}
	return s, nil
}

// retryPolicy is the sinks' retry policy of a sink's retry block, with
// max_attempts: unlimited as sinks.UnlimitedAttempts.
func retryPolicy(r config.Retry) sinks.RetryPolicy {
	p := sinks.RetryPolicy{MaxAttempts: r.MaxAttempts, InitialBackoff: r.InitialBackoff, MaxBackoff: r.MaxBackoff}
	if r.MaxAttempts == config.UnlimitedAttempts {
		p.MaxAttempts = sinks.UnlimitedAttempts
	}
	return p
}
