package logbuf

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an underlying writer that keeps each Write call apart.
type recorder struct {
	mu     sync.Mutex
	writes []string
	wrote  chan struct{} // gets a value on each Write, if not full
}

func newRecorder() *recorder { return &recorder{wrote: make(chan struct{}, 100)} }

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.writes = append(r.writes, string(p))
	r.mu.Unlock()
	select {
	case r.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

// never is a delay no test waits for.
const never = time.Hour

// TestGathersUntilFlush: lines are written in one call, in order, only
// when flushed; a flush with nothing gathered writes nothing.
func TestGathersUntilFlush(t *testing.T) {
	rec := newRecorder()
	w := New(rec, never, 1<<20)
	for i := range 3 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if got := rec.calls(); len(got) != 0 {
		t.Fatalf("written before a flush: %q", got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := rec.calls(), []string{"line 0\nline 1\nline 2\n"}; !slices.Equal(got, want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

// TestWritesWhenFull: once max bytes have gathered they are written
// without waiting.
func TestWritesWhenFull(t *testing.T) {
	rec := newRecorder()
	w := New(rec, never, 10)
	w.Write([]byte("12345"))
	if got := rec.calls(); len(got) != 0 {
		t.Fatalf("written under the limit: %q", got)
	}
	w.Write([]byte("67890"))
	if got, want := rec.calls(), []string{"1234567890"}; !slices.Equal(got, want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

// TestTimerFlushes: a line nobody flushes is written after the delay.
func TestTimerFlushes(t *testing.T) {
	rec := newRecorder()
	w := New(rec, time.Millisecond, 1<<20)
	w.Write([]byte("alone\n"))
	select {
	case <-rec.wrote:
	case <-time.After(time.Minute):
		t.Fatal("a gathered line was never written")
	}
	if got, want := rec.calls(), []string{"alone\n"}; !slices.Equal(got, want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
	// The timer is armed again for the next line.
	w.Write([]byte("again\n"))
	select {
	case <-rec.wrote:
	case <-time.After(time.Minute):
		t.Fatal("the second line was never written")
	}
}

// TestCloseWritesTheRest: Close writes what gathered, and later lines
// go straight through.
func TestCloseWritesTheRest(t *testing.T) {
	rec := newRecorder()
	w := New(rec, never, 1<<20)
	w.Write([]byte("before\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("after\n"))
	if got, want := rec.calls(), []string{"before\n", "after\n"}; !slices.Equal(got, want) {
		t.Fatalf("writes %q, want %q", got, want)
	}
}

// TestWarningsAreWrittenAtOnce: through Handler, information waits, and a
// warning is written with everything before it before Log returns; so are
// errors, through loggers made With attributes and groups.
func TestWarningsAreWrittenAtOnce(t *testing.T) {
	rec := newRecorder()
	w := New(rec, never, 1<<20)
	log := slog.New(Handler(slog.NewJSONHandler(w, nil), w))
	log.Info("served", "n", 1)
	if got := rec.calls(); len(got) != 0 {
		t.Fatalf("information written at once: %q", got)
	}
	log.Warn("refused")
	got := strings.Join(rec.calls(), "")
	if !strings.Contains(got, `"msg":"served"`) || !strings.Contains(got, `"msg":"refused"`) ||
		strings.Index(got, "served") > strings.Index(got, "refused") {
		t.Fatalf("after a warning, written: %q; want the information then the warning", got)
	}
	n := len(rec.calls())
	log.With("request_id", "r1").WithGroup("g").Error("failed")
	if calls := rec.calls(); len(calls) != n+1 || !strings.Contains(calls[n], `"request_id":"r1"`) || !strings.Contains(calls[n], "failed") {
		t.Fatalf("an error through With and WithGroup: writes %q", calls)
	}
}

// TestConcurrentLinesStayWhole: lines written at once from many
// goroutines, flushed meanwhile, come out whole and each goroutine's in
// its order.
func TestConcurrentLinesStayWhole(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), time.Microsecond, 512)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "g%d line %d of a log line long enough to fill buffers\n", g, i)
				if i%100 == 0 {
					w.Flush()
				}
			}
		})
	}
	wg.Wait()
	w.Close()
	next := make([]int, writers)
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(l, "g%d line %d of a log line long enough to fill buffers", &g, &i); err != nil || g >= writers {
			t.Fatalf("a mangled line: %q", l)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d's line %d came where %d was due", g, i, next[g])
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Errorf("goroutine %d: %d lines written, want %d", g, n, lines)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
