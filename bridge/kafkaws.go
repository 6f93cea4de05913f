package bridge

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/codec"
	"github.com/telebridge/telebridge/sinks/kafkaws"
)

// NewKafkaWS builds the Kafka WS endpoint of cfg's kafka_ws section (nil,
// nil when there is none). It reads the configured cluster's connection
// settings and, when kafka_ws.registry is set, decodes Confluent Avro
// through that registry. It binds nothing: call Run on the result.
func NewKafkaWS(cfg *config.Config, log *zap.Logger) (*kafkaws.Server, error) {
	k := cfg.KafkaWS
	if k == nil {
		return nil, nil
	}
	if log == nil {
		log = zap.NewNop()
	}
	cl, ok := cfg.Clusters[k.Cluster]
	if !ok {
		return nil, fmt.Errorf("kafka_ws.cluster %q is not defined in clusters", k.Cluster)
	}
	var reg *codec.Registry
	if k.Registry != "" {
		r, ok := cfg.Registries[k.Registry]
		if !ok {
			return nil, fmt.Errorf("kafka_ws.registry %q is not defined in registries", k.Registry)
		}
		var err error
		reg, err = newRegistry(r, log.With(zap.String("component", "kafka-ws")), "the topic waits")
		if err != nil {
			return nil, fmt.Errorf("kafka_ws: registry %s: %w", r.Name, err)
		}
	}
	return kafkaws.New(kafkaws.Config{
		Listen:      k.Listen,
		TLSCertFile: k.TLS.CertFile,
		TLSKeyFile:  k.TLS.KeyFile,
		Kafka:       cl.KafkaConfig(),
		Registry:    reg,
		Auth: kafkaws.Auth{
			HS256Secret:   []byte(k.Auth.HS256Secret.Reveal()),
			PublicKeyFile: k.Auth.PublicKeyFile,
			JWKSFile:      k.Auth.JWKSFile,
			Issuer:        k.Auth.Issuer,
			Audience:      k.Auth.Audience,
			TenantClaim:   k.Auth.TenantClaim,
			Leeway:        k.Auth.Leeway,
		},
		TicketSecret:   []byte(k.Ticket.Secret.Reveal()),
		TicketTTL:      k.Ticket.TTL,
		SpentTopic:     k.Ticket.SpentTopic,
		SpentWait:      k.Ticket.SpentWait,
		InstanceID:     cfg.InstanceID,
		Lifetime:       k.Connection.Lifetime,
		JWTExpiryLimit: k.Connection.JWTExpiryLimit,
		SendQueue:      k.Connection.SendQueue,
		PingInterval:   k.Connection.PingInterval,
		Tenants:        k.Tenants,
		Logger:         log.With(zap.String("component", "kafka-ws")),
	})
}
