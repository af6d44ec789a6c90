package limitertest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiomkit/axiom/internal/ratelimit"
	"github.com/axiomkit/axiom/internal/ratelimit/limitertest"
)

// mutant is a small map-backed limiter with one deliberate fault, to show
// that the suite catches it.
type mutant struct {
	fault string
	clock func() time.Time
	mu    sync.Mutex
	tats  map[string]int64
}

func (m *mutant) Allow(_ context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	m.mu.Lock()
	tat := m.tats[key]
	if m.fault == "racy" {
		// Read and write in separate critical sections.
		m.mu.Unlock()
		runtime.Gosched()
		m.mu.Lock()
	}
	defer m.mu.Unlock()
	now := m.clock()
	if m.fault == "ignores-clock" {
		now = time.Now()
	}
	limit := l
	if m.fault == "burst-plus-one" {
		limit.Burst++
	}
	next, r, err := ratelimit.GCRA(tat, now, limit)
	if err != nil {
		return r, err
	}
	r.Limit = l.Rate
	m.tats[key] = next
	switch m.fault {
	case "remaining-one-low":
		r.Remaining = max(0, r.Remaining-1)
	case "reset-one-interval-late":
		r.ResetAt = r.ResetAt.Add(l.Interval())
	case "retry-after-early":
		if !r.Allowed {
			r.RetryAfter -= time.Millisecond
			r.ResetAt = r.ResetAt.Add(-time.Millisecond)
		}
	}
	return r, nil
}

func (m *mutant) Sweep() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fault == "sweep-never" {
		return 0
	}
	now := m.clock().UnixNano()
	n := 0
	for k, tat := range m.tats {
		if tat <= now || m.fault == "sweep-all" {
			delete(m.tats, k)
			n++
		}
	}
	return n
}

// TestMutant runs one suite against one mutant when the environment names
// them; TestMutants starts it in a child process so that its failure is
// observed instead of failing this package.
func TestMutant(t *testing.T) {
	fault, suite := os.Getenv("LIMITERTEST_FAULT"), os.Getenv("LIMITERTEST_SUITE")
	if suite == "" {
		t.Skip("run by TestMutants")
	}
	switch suite {
	case "real":
		limitertest.Run(t, func(t *testing.T) ratelimit.Limiter {
			return &mutant{fault: fault, clock: time.Now, tats: map[string]int64{}}
		})
	case "clock":
		limitertest.RunClock(t, func(t *testing.T, clock func() time.Time) ratelimit.Limiter {
			return &mutant{fault: fault, clock: clock, tats: map[string]int64{}}
		})
	}
}

func TestMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child test processes")
	}
	tests := []struct {
		fault, suite string
		pass         bool
	}{
		{"", "clock", true}, // the faultless mutant passes: the harness works
		{"", "real", true},
		{"burst-plus-one", "clock", false},
		{"burst-plus-one", "real", false},
		{"remaining-one-low", "clock", false},
		{"remaining-one-low", "real", false},
		{"reset-one-interval-late", "clock", false},
		{"reset-one-interval-late", "real", false},
		{"retry-after-early", "clock", false},
		{"sweep-all", "clock", false},
		{"sweep-all", "real", false},
		{"sweep-never", "clock", false},
		{"ignores-clock", "clock", false},
		{"racy", "clock", false},
		{"racy", "real", false},
	}
	for _, tt := range tests {
		t.Run(tt.suite+"/"+tt.fault, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutant$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "LIMITERTEST_FAULT="+tt.fault, "LIMITERTEST_SUITE="+tt.suite)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("running the child: %v", err)
			}
			passed := err == nil && strings.Contains(string(out), "--- PASS: TestMutant (")
			if passed != tt.pass {
				t.Errorf("suite passed %v, want %v; output:\n%s", passed, tt.pass, tail(string(out), 40))
			}
			if !tt.pass {
				caught := failedSubtests(string(out))
				if len(caught) == 0 {
					t.Errorf("child failed without a failing test:\n%s", tail(string(out), 40))
				}
				t.Logf("caught by %s", strings.Join(caught, ", "))
			}
		})
	}
}

// failedSubtests lists the suite's failed subtests named in out.
func failedSubtests(out string) []string {
	var names []string
	for line := range strings.Lines(out) {
		if _, name, ok := strings.Cut(line, "--- FAIL: TestMutant/"); ok {
			name, _, _ = strings.Cut(name, " ")
			names = append(names, name)
		}
	}
	return names
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
