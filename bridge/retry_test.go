package bridge

import (
	"testing"
	"time"

	"github.com/telebridge/telebridge/bridge/config"
	"github.com/telebridge/telebridge/sinks"
)

func TestRetryPolicyFromConfig(t *testing.T) {
	p := retryPolicy(config.Retry{MaxAttempts: config.UnlimitedAttempts, InitialBackoff: time.Second, MaxBackoff: time.Minute})
	if p.MaxAttempts != sinks.UnlimitedAttempts || p.Exhausted(1<<30) || p.InitialBackoff != time.Second || p.MaxBackoff != time.Minute {
		t.Fatalf("unlimited: %+v", p)
	}
	p = retryPolicy(config.Retry{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: time.Minute})
	if p.MaxAttempts != 3 || !p.Exhausted(3) || p.Exhausted(2) {
		t.Fatalf("3 attempts: %+v", p)
	}
}
