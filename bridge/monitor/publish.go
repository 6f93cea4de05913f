package monitor

import (
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/bridge/history"
)

// kafkaPublisher publishes every history record as JSON (the API's record
// form, keyed by eventId) to a Kafka topic, so that several bridge
// instances can be watched together. It is best effort, like the history
// itself: a record that librdkafka cannot queue or deliver is counted and
// logged (throttled), never retried, and never slows delivery.
type kafkaPublisher struct {
	p       *kafka.Producer
	topic   string
	log     *zap.Logger
	dropped atomic.Uint64
	lastLog atomic.Int64
	done    chan struct{}
}

func newKafkaPublisher(conn map[string]string, topic string, log *zap.Logger) (*kafkaPublisher, error) {
	cm := kafka.ConfigMap{}
	for k, v := range conn {
		cm[k] = v
	}
	for k, v := range map[string]kafka.ConfigValue{
		"acks":                         "1",
		"linger.ms":                    100,
		"queue.buffering.max.messages": 100000,
		"go.delivery.report.fields":    "none",
		"go.logs.channel.enable":       false,
	} {
		cm[k] = v
	}
	p, err := kafka.NewProducer(&cm)
	if err != nil {
		return nil, fmt.Errorf("history.topic %s: producer: %w", topic, err)
	}
	k := &kafkaPublisher{p: p, topic: topic, log: log, done: make(chan struct{})}
	go k.events()
	return k, nil
}

func (k *kafkaPublisher) events() {
	defer close(k.done)
	for ev := range k.p.Events() {
		switch e := ev.(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil {
				k.drop(e.TopicPartition.Error)
			}
		case kafka.Error:
			k.drop(e)
		}
	}
}

func (k *kafkaPublisher) drop(err error) {
	n := k.dropped.Add(1)
	now := time.Now().UnixNano()
	if last := k.lastLog.Load(); now-last > int64(30*time.Second) && k.lastLog.CompareAndSwap(last, now) {
		k.log.Warn("publishing delivery-history records failed (delivery is not affected)", zap.String("topic", k.topic), zap.Uint64("failed_total", n), zap.Error(err))
	}
}

// Publish queues every record; it never blocks.
func (k *kafkaPublisher) Publish(recs []history.Record) {
	for i := range recs {
		v, err := json.Marshal(recs[i])
		if err != nil {
			k.drop(err)
			continue
		}
		if err := k.p.Produce(&kafka.Message{
			TopicPartition: kafka.TopicPartition{Topic: &k.topic, Partition: kafka.PartitionAny},
			Key:            []byte(recs[i].EventID),
			Value:          v,
		}, nil); err != nil {
			k.drop(err)
		}
	}
}

// close flushes for up to wait, then closes the producer.
func (k *kafkaPublisher) close(wait time.Duration) {
	deadline := time.Now().Add(wait)
	for k.p.Len() > 0 && time.Now().Before(deadline) {
		k.p.Flush(100)
	}
	k.p.Close()
	<-k.done
}
