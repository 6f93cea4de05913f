// Package testkit starts the embedded, real-protocol services that tests,
// the demo and the benchmark run against: a kfake Kafka cluster with SASL
// on, and an srfake Confluent Schema Registry with basic auth. Both speak
// the real wire protocols, so the production clients (librdkafka through
// confluent-kafka-go, srclient) are exercised unchanged.
package testkit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// Default credentials of the embedded services. They protect nothing but a
// loopback test broker, which is why they may be printed by the demo.
const (
	KafkaUser         = "telebridge"
	KafkaPassword     = "telebridge-demo"
	ScramUser256      = "scram256"
	ScramUser512      = "scram512"
	ScramPassword     = "scram-demo"
	RegistryUser      = "sr-user"
	RegistryPasswd    = "sr-demo"
	DefaultPartitions = 4
)

// Kafka is an embedded kfake cluster with SASL PLAIN and SCRAM users.
type Kafka struct {
	Cluster *kfake.Cluster
	// Addr is the bootstrap address (127.0.0.1:port).
	Addr string
}

// KafkaOption adjusts the embedded cluster.
type KafkaOption = kfake.Opt

// StartKafka starts a one-broker kfake cluster on loopback with SASL enabled:
// PLAIN superuser KafkaUser/KafkaPassword, SCRAM-SHA-256 user ScramUser256
// and SCRAM-SHA-512 user ScramUser512 (both ScramPassword). Topics are
// created automatically with DefaultPartitions partitions; topics passed in
// seed are created up front. SaslHandshake answers list the enabled
// mechanisms, as Kafka's do, so that kafkajs accepts the broker. Close it
// with Close.
func StartKafka(seed []string, opts ...KafkaOption) (*Kafka, error) {
	all := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(0),
		kfake.EnableSASL(),
		kfake.Superuser("PLAIN", KafkaUser, KafkaPassword),
		kfake.Superuser("SCRAM-SHA-256", ScramUser256, ScramPassword),
		kfake.Superuser("SCRAM-SHA-512", ScramUser512, ScramPassword),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(DefaultPartitions),
		kfake.GroupMinSessionTimeout(100 * time.Millisecond),
		kfake.ListenFn(listenAdvertisingMechanisms),
	}
	if len(seed) > 0 {
		all = append(all, kfake.SeedTopics(DefaultPartitions, seed...))
	}
	all = append(all, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		return nil, fmt.Errorf("start embedded kafka: %w", err)
	}
	k := &Kafka{Cluster: c, Addr: strings.Join(c.ListenAddrs(), ",")}
	if err := k.acceptOldSASLClients(); err != nil {
		c.Close()
		return nil, err
	}
	return k, nil
}

// acceptOldSASLClients makes the cluster advertise SaslHandshake from
// version 0. kfake serves only v1, and librdkafka before 2.x (Debian's
// kcat among them) refuses SASL unless the broker lists v0; such clients
// then negotiate v1 anyway, which kfake serves. The answer is the
// cluster's own ApiVersions response with that one range widened.
func (k *Kafka) acceptOldSASLClients() error {
	cl, err := k.Client()
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName = "telebridge-testkit"
	req.ClientSoftwareVersion = "1"
	base, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("embedded kafka: api versions: %w", err)
	}
	keys := make([]kmsg.ApiVersionsResponseApiKey, len(base.ApiKeys))
	copy(keys, base.ApiKeys)
	for i := range keys {
		if keys[i].ApiKey == 17 { // SaslHandshake
			keys[i].MinVersion = 0
		}
	}
	c := k.Cluster
	c.ControlKey(18, func(r kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req, ok := r.(*kmsg.ApiVersionsRequest)
		if !ok || req.Version > base.Version {
			return nil, nil, false // let the cluster answer what we did not capture
		}
		resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
		resp.ApiKeys = keys
		resp.SupportedFeatures = base.SupportedFeatures
		resp.FinalizedFeatures = base.FinalizedFeatures
		resp.FinalizedFeaturesEpoch = base.FinalizedFeaturesEpoch
		return resp, nil, true
	})
	return nil
}

// Close stops the cluster.
func (k *Kafka) Close() { k.Cluster.Close() }

// Librdkafka returns librdkafka connection properties for the PLAIN
// superuser over SASL_PLAINTEXT.
func (k *Kafka) Librdkafka() map[string]string {
	return map[string]string{
		"bootstrap.servers":     k.Addr,
		"security.protocol":     "SASL_PLAINTEXT",
		"sasl.mechanisms":       "PLAIN",
		"sasl.username":         KafkaUser,
		"sasl.password":         KafkaPassword,
		"broker.address.family": "v4",
	}
}

// Client returns a franz-go client authenticated as the PLAIN superuser,
// for tests that produce input or read output independently of the
// bridge's own client. Extra options are appended.
func (k *Kafka) Client(opts ...kgo.Opt) (*kgo.Client, error) {
	all := []kgo.Opt{
		kgo.SeedBrokers(strings.Split(k.Addr, ",")...),
		kgo.SASL(plain.Auth{User: KafkaUser, Pass: KafkaPassword}.AsMechanism()),
		kgo.AllowAutoTopicCreation(),
	}
	all = append(all, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("kafka test client: %w", err)
	}
	return cl, nil
}

// ReadTopic reads records from the start of topic until n records arrived
// or ctx ends, and returns what it read (possibly fewer than n with the
// context's error).
func (k *Kafka) ReadTopic(ctx context.Context, topic string, n int) ([]*kgo.Record, error) {
	cl, err := k.Client(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("read %s: got %d of %d records: %w", topic, len(out), n, err)
		}
		fs.EachError(func(t string, p int32, e error) {
			if err == nil {
				err = fmt.Errorf("read %s/%d: %w", t, p, e)
			}
		})
		if err != nil {
			return out, err
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out, nil
}

// Registry is an embedded Confluent Schema Registry with basic auth.
type Registry struct {
	*srfake.Registry
}

// StartRegistry starts srfake over HTTP on loopback requiring basic auth
// RegistryUser/RegistryPasswd.
func StartRegistry() *Registry {
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(RegistryUser+":"+RegistryPasswd))
	return &Registry{Registry: srfake.New(srfake.WithAuth(auth))}
}

// Committed returns the offsets group has committed, by topic and
// partition, read with an OffsetFetch request (without joining the group,
// so it works while members, static ones included, hold the group).
// Partitions without a commit are absent; a group that does not exist yet
// has none.
func (k *Kafka) Committed(ctx context.Context, group string) (map[string]map[int32]int64, error) {
	cl, err := k.Client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("offset fetch %s: %w", group, err)
	}
	out := map[string]map[int32]int64{}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		if errors.Is(err, kerr.GroupIDNotFound) {
			return out, nil // no member ever joined: nothing committed
		}
		return nil, fmt.Errorf("offset fetch %s: %w", group, err)
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("offset fetch %s %s/%d: %w", group, t.Topic, p.Partition, err)
			}
			if p.Offset < 0 {
				continue
			}
			if out[t.Topic] == nil {
				out[t.Topic] = map[int32]int64{}
			}
			out[t.Topic][p.Partition] = p.Offset
		}
	}
	return out, nil
}

// EndOffsets returns the high watermark of every partition of topics.
func (k *Kafka) EndOffsets(ctx context.Context, topics ...string) (map[string]map[int32]int64, error) {
	cl, err := k.Client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	meta := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr(t)
		meta.Topics = append(meta.Topics, mt)
	}
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("metadata %v: %w", topics, err)
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	for _, t := range mresp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", *t.Topic, err)
		}
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = *t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition = p.Partition
			rp.Timestamp = -1 // latest
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list offsets %v: %w", topics, err)
	}
	out := map[string]map[int32]int64{}
	for _, t := range resp.Topics {
		out[t.Topic] = map[int32]int64{}
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("list offsets %s/%d: %w", t.Topic, p.Partition, err)
			}
			out[t.Topic][p.Partition] = p.Offset
		}
	}
	return out, nil
}

// GroupMember is one member of a consumer group as DescribeGroups reports
// it: its static instance id (or member id when dynamic) and the
// partitions it was assigned.
type GroupMember struct {
	Name       string
	Partitions map[string][]int32
}

// DescribeGroup returns the group's state and its members with their
// assignments (consumer protocol).
func (k *Kafka) DescribeGroup(ctx context.Context, group string) (state string, members []GroupMember, err error) {
	cl, err := k.Client()
	if err != nil {
		return "", nil, err
	}
	defer cl.Close()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return "", nil, fmt.Errorf("describe group %s: %w", group, err)
	}
	if len(resp.Groups) != 1 {
		return "", nil, fmt.Errorf("describe group %s: %d groups in the answer", group, len(resp.Groups))
	}
	g := resp.Groups[0]
	if err := kerr.ErrorForCode(g.ErrorCode); err != nil {
		return "", nil, fmt.Errorf("describe group %s: %w", group, err)
	}
	for _, m := range g.Members {
		gm := GroupMember{Name: m.MemberID, Partitions: map[string][]int32{}}
		if m.InstanceID != nil {
			gm.Name = *m.InstanceID
		}
		var a kmsg.ConsumerMemberAssignment
		if len(m.MemberAssignment) > 0 {
			if err := a.ReadFrom(m.MemberAssignment); err != nil {
				return "", nil, fmt.Errorf("describe group %s: member %s assignment: %w", group, gm.Name, err)
			}
		}
		for _, t := range a.Topics {
			gm.Partitions[t.Topic] = append(gm.Partitions[t.Topic], t.Partitions...)
		}
		members = append(members, gm)
	}
	return g.State, members, nil
}
