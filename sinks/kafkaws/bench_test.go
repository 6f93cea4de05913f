package kafkaws

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/telebridge/telebridge/internal/testkit"
)

// TestMain lets the test binary act as a standalone endpoint process for
// BenchmarkIdleConnections, so the server's memory is measured apart from
// the clients'.
func TestMain(m *testing.M) {
	if os.Getenv("KAFKAWS_BENCH_CHILD") == "1" {
		if err := benchChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchChild runs kfake and a server, prints "URL <base> <stats url>" and
// serves until stdin closes. GET <stats url> answers the heap and stack in
// use after a GC, and the goroutine count.
func benchChild() error {
	k, err := testkit.StartKafka([]string{"bench.idle"})
	if err != nil {
		return err
	}
	defer k.Close()
	s, err := New(Config{Listen: "127.0.0.1:0", Kafka: k.Librdkafka(), Auth: Auth{HS256Secret: testSecret}, Logger: zap.NewNop(), Lifetime: -1, PingInterval: time.Hour})
	if err != nil {
		return err
	}
	if err := s.Listen(); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/mem", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(map[string]uint64{"heap": ms.HeapInuse, "stack": ms.StackInuse, "sys": ms.Sys, "goroutines": uint64(runtime.NumGoroutine()), "conns": uint64(s.Stats().Connections)})
	})
	hs := &http.Server{Addr: "127.0.0.1:0", Handler: mux}
	ln, err := listenLoopback()
	if err != nil {
		return err
	}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		cancel()
	}()
	fmt.Printf("URL %s http://%s/mem\n", s.URL(), ln.Addr())
	return s.Run(ctx)
}

type memSample struct{ Heap, Stack, Sys, Goroutines, Conns uint64 }

func getMem(b *testing.B, url string) memSample {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]uint64
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		b.Fatal(err)
	}
	return memSample{m["heap"], m["stack"], m["sys"], m["goroutines"], m["conns"]}
}

// BenchmarkIdleConnections opens KAFKAWS_BENCH_CONNS (default 2000) idle
// WebSocket subscribers on one topic of an endpoint running in a child
// process and reports the endpoint's heap+stack per connection, measured
// after a GC, and its goroutines per connection. Run with -benchtime=1x:
//
//	KAFKAWS_BENCH_CONNS=10000 go test ./sinks/kafkaws -run '^$' -bench IdleConnections -benchtime 1x
func BenchmarkIdleConnections(b *testing.B) {
	n := 2000
	if s := os.Getenv("KAFKAWS_BENCH_CONNS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n <= 0 {
			b.Fatalf("KAFKAWS_BENCH_CONNS=%q", s)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KAFKAWS_BENCH_CHILD=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	var base, memURL string
	if _, err := fmt.Sscanf(line, "URL %s %s", &base, &memURL); err != nil {
		b.Fatalf("child said %q", line)
	}
	e := &env{t: b, base: base}
	// One connection first, so the topic's consumer (shared by all) is not
	// counted per connection.
	first := e.mustDial("bench.idle", "bench")
	_ = first
	before := getMem(b, memURL)
	b.ResetTimer()
	conns := make([]*websocket.Conn, 0, n)
	for range n {
		c, _, err := e.dial("bench.idle", e.ticket("bench"))
		if err != nil {
			b.Fatalf("after %d connections: %v", len(conns), err)
		}
		c.CloseRead(context.Background())
		conns = append(conns, c)
	}
	b.StopTimer()
	var after memSample
	for range 50 {
		if after = getMem(b, memURL); after.Conns == uint64(n+1) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	perConn := float64((after.Heap+after.Stack)-(before.Heap+before.Stack)) / float64(n)
	b.ReportMetric(perConn, "bytes/conn")
	b.ReportMetric(float64(after.Goroutines-before.Goroutines)/float64(n), "goroutines/conn")
	b.ReportMetric(perConn*10000/(1<<20), "MiB/10k-conns")
	b.ReportMetric(float64(after.Sys)/(1<<20), "MiB-sys-total")
	b.Logf("%d idle connections: heap %d -> %d, stack %d -> %d bytes, goroutines %d -> %d", n, before.Heap, after.Heap, before.Stack, after.Stack, before.Goroutines, after.Goroutines)
	for _, c := range conns {
		_ = c.CloseNow()
	}
}

// BenchmarkFanOut1000 measures delivery with 1,000 WebSocket subscribers
// on one topic (all unfiltered, sharing one consumer and one encoding):
// each iteration produces one 300-byte JSON message that every subscriber
// reads. frames/s counts frames received by all clients together.
func BenchmarkFanOut1000(b *testing.B) {
	const subs = 1000
	e := newEnv(b, []string{"bench.fan"}, func(c *Config) {
		c.Logger = zap.NewNop()
		c.SendQueue = 1024
	})
	conns := make([]*websocket.Conn, subs)
	for i := range conns {
		conns[i] = e.mustDial("bench.fan", "bench")
	}
	msg := fmt.Sprintf(`{"assetId":"a","ownerId":"fleet-01","latitude":52.1,"longitude":21.0,"heading":90,"pad":"%s"}`, strings.Repeat("x", 200))
	var got atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for _, c := range conns {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			for range b.N {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
				got.Add(1)
			}
		})
	}
	vals := make([][]byte, 0, 100)
	for i := 0; i < b.N; i++ {
		vals = append(vals, []byte(msg))
		if len(vals) == cap(vals) || i == b.N-1 {
			e.produce("bench.fan", vals...)
			vals = vals[:0]
		}
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	if got.Load() != int64(subs*b.N) {
		b.Fatalf("received %d frames, want %d", got.Load(), subs*b.N)
	}
	b.ReportMetric(float64(subs*b.N)/el.Seconds(), "frames/s")
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
}

// BenchmarkFilter measures where + fields on one decoded location object.
func BenchmarkFilter(b *testing.B) {
	v := mustJSON(b, `{"id":1,"assetId":"a","ownerId":"fleet-01","whenCreated":"2026-01-01T00:00:00Z","latitude":52.1,"longitude":21.0,"heading":120,"tags":["x","y"]}`)
	w, err := ParseWhere("ownerId=in:^fleet-0[12]$;heading=gte:90;tags.1=in:^y$;")
	if err != nil {
		b.Fatal(err)
	}
	f, err := ParseFields("assetId,whenCreated,latitude,longitude,heading")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r, ok := filterMessage(w, f, v)
		if !ok {
			b.Fatal("no match")
		}
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
