// Package logbuf batches a program's log lines into fewer writes.
//
// A serving Sitrep logs one line per request. Written one at a time, each
// line is a write system call, which was 8% of the CPU a busy Sitrep spent
// serving slash commands. A Writer keeps lines for at most its delay and
// writes what gathered in one call. Warnings and errors are not kept:
// Handler writes them, and everything logged before them, before Log
// returns, so an operator never waits for a line that explains a failure,
// and a crash loses at most the last delay's lines of information (the
// crash's own message, from the runtime, goes to stderr directly).
package logbuf

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer gathers what is written to it and passes it on to an underlying
// writer in one call: when the first byte gathered is delay old, when
// max bytes have gathered, or on Flush and Close. It keeps each Write
// whole and in order. Writes to it do not fail: an error of the
// underlying writer is returned by the Flush or Close that met it (the
// timer's flushes drop theirs, as slog drops a failed write's).
type Writer struct {
	out   io.Writer
	delay time.Duration
	max   int

	wmu sync.Mutex // held while writing to out, so batches keep their order

	mu     sync.Mutex
	buf    []byte
	spare  []byte
	timer  *time.Timer
	armed  bool
	closed bool
}

// New returns a Writer writing to out.
func New(out io.Writer, delay time.Duration, max int) *Writer {
	w := &Writer{out: out, delay: delay, max: max}
	w.timer = time.AfterFunc(time.Hour, func() { w.Flush() })
	w.timer.Stop()
	return w
}

// Write gathers p. After Close, it writes p through at once.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.wmu.Lock()
		defer w.wmu.Unlock()
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	full := len(w.buf) >= w.max
	if !full && !w.armed {
		w.armed = true
		w.timer.Reset(w.delay)
	}
	w.mu.Unlock()
	if full {
		w.Flush()
	}
	return len(p), nil
}

// Flush writes what has gathered.
func (w *Writer) Flush() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.mu.Lock()
	batch := w.buf
	w.buf = w.spare[:0]
	w.spare = nil
	if w.armed {
		w.armed = false
		w.timer.Stop()
	}
	w.mu.Unlock()
	var err error
	if len(batch) > 0 {
		_, err = w.out.Write(batch)
	}
	w.mu.Lock()
	if cap(batch) <= 4*w.max { // a burst's big buffer is not kept
		w.spare = batch[:0]
	}
	w.mu.Unlock()
	return err
}

// Close writes what has gathered; later writes go straight through.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return w.Flush()
}

// Handler wraps h, which writes to w, so that a record at warning level or
// above is written out, with all before it, before Handle returns.
func Handler(h slog.Handler, w *Writer) slog.Handler {
	return &handler{Handler: h, w: w}
}

type handler struct {
	slog.Handler
	w *Writer
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(attrs), w: h.w}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name), w: h.w}
}
