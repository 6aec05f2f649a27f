package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// Metrics receives what the bot measures, for monitoring. cmd/sitrep
// passes a Prometheus implementation; nil means nothing is measured.
type Metrics interface {
	// Request is told of each request from Slack once it is answered: its
	// kind (command, interaction, event), how it ended (see outcomeOf) and
	// how long answering took.
	Request(kind, outcome string, took time.Duration)
	// SlackCall is told of each call Sitrep makes to Slack: the Web API
	// method (or response_url, file_upload), its result ("ok", Slack's
	// error code, ratelimited, http_5xx, network_error) and its duration.
	SlackCall(method, result string, took time.Duration)
	// Prompt is told of each status-update or postmortem prompt posted.
	Prompt(kind string)
	// Pass is told of each pass of the delivery engine (notify.Metrics).
	Pass(integration, outcome string, took time.Duration)
}

type noMetrics struct{}

func (noMetrics) Request(string, string, time.Duration)   {}
func (noMetrics) SlackCall(string, string, time.Duration) {}
func (noMetrics) Prompt(string)                           {}
func (noMetrics) Pass(string, string, time.Duration)      {}

// The kinds of request from Slack.
const (
	kindCommand     = "command"
	kindInteraction = "interaction"
	kindEvent       = "event"
)

// How a request from Slack ended, besides the domain's error codes (see
// outcomeOf). The set is small and fixed: it labels metrics.
const (
	outcomeOK        = "ok"
	outcomeRejected  = "rejected"    // bad or missing signature
	outcomeTooLarge  = "too_large"   // body over maxBody
	outcomeMalformed = "malformed"   // signed, but not a payload Sitrep can read
	outcomeLimited   = "limited"     // over the per-person declaration limit
	outcomeDuplicate = "duplicate"   // an Events API retry already handled
	outcomeIgnored   = "ignored"     // an event Sitrep does not act on
	outcomeLater     = "retry_later" // Slack is asked to send it again
	outcomeSlack     = "slack_error" // Slack refused what the request needed at once (a form)
)

// outcomeOf names how a request that met err ended.
func outcomeOf(err error) string {
	switch incident.ErrorCode(err) {
	case "":
		return outcomeOK
	case incident.EINVALID:
		return "invalid"
	case incident.ENOTFOUND:
		return "not_found"
	case incident.ECONFLICT:
		return "conflict"
	case incident.EFORBIDDEN:
		return "forbidden"
	}
	return "error"
}

// request is what handling one request from Slack has found out about it,
// for the one line logged and the metrics recorded when it is answered.
type request struct {
	id, kind, transport string
	start               time.Time

	mu       sync.Mutex
	what     string // the subcommand, action, form or event type
	user     string
	incident int64
	outcome  string
	reason   string
	err      error // what went wrong, for the log only: never for Slack's eyes
}

type requestKey struct{}

// startRequest begins the record of a request from Slack. id identifies it
// in the logs: Socket Mode's envelope ID, or a new random one.
func (b *Bot) startRequest(ctx context.Context, kind, transport, id string) (context.Context, *request) {
	if id == "" {
		var buf [8]byte
		rand.Read(buf[:])
		id = hex.EncodeToString(buf[:])
	}
	r := &request{id: id, kind: kind, transport: transport, start: time.Now(), outcome: outcomeOK}
	return context.WithValue(ctx, requestKey{}, r), r
}

// endRequest logs the request once and measures it.
func (b *Bot) endRequest(r *request, status int) {
	took := time.Since(r.start)
	r.mu.Lock()
	attrs := []any{"request_id", r.id, "kind", r.kind, "transport", r.transport, "outcome", r.outcome, "duration_ms", float64(took.Microseconds()) / 1000}
	if r.what != "" {
		attrs = append(attrs, "what", r.what)
	}
	if r.user != "" {
		attrs = append(attrs, "user", r.user)
	}
	if r.incident != 0 {
		attrs = append(attrs, "incident", r.incident)
	}
	if status != 0 {
		attrs = append(attrs, "status", status)
	}
	if r.reason != "" {
		attrs = append(attrs, "reason", r.reason)
	}
	if r.err != nil {
		attrs = append(attrs, "err", r.err.Error())
	}
	outcome := r.outcome
	r.mu.Unlock()
	level := slog.LevelInfo
	switch outcome {
	case "error", outcomeRejected, outcomeLater, outcomeSlack:
		level = slog.LevelWarn
	case outcomeIgnored:
		// Every reaction in every channel Sitrep is in arrives here.
		level = slog.LevelDebug
	}
	b.log.Log(context.Background(), level, "slack request", attrs...)
	b.metrics.Request(r.kind, outcome, took)
}

// noteRequest records what fn finds out about the request ctx belongs to,
// if it belongs to one (work after the answer does not).
func noteRequest(ctx context.Context, fn func(r *request)) {
	if r, ok := ctx.Value(requestKey{}).(*request); ok {
		r.mu.Lock()
		fn(r)
		r.mu.Unlock()
	}
}

// requestIs records what a request is about: what and who.
func requestIs(ctx context.Context, what, user string) {
	noteRequest(ctx, func(r *request) { r.what, r.user = what, user })
}

// requestIncident records the incident a request acts on.
func requestIncident(ctx context.Context, number int64) {
	noteRequest(ctx, func(r *request) { r.incident = number })
}

// requestEnded records how a request ended, when it did not go as asked.
func requestEnded(ctx context.Context, outcome, reason string) {
	noteRequest(ctx, func(r *request) { r.outcome, r.reason = outcome, reason })
}

// logFor returns the logger for work done for ctx's request: its lines
// carry the request's ID, so they can be found with the request's line.
func (b *Bot) logFor(ctx context.Context) *slog.Logger {
	if r, ok := ctx.Value(requestKey{}).(*request); ok {
		return slog.New(&lazyAttrs{h: b.log.Handler(), attrs: []slog.Attr{slog.String("request_id", r.id)}})
	}
	return b.log
}

// lazyAttrs adds its attributes to each record it handles, where slog's
// With formats them when the logger is made. Every request makes its
// logger, with the request's ID, the person and the subcommand, and few
// log anything more: formatting them at once was 5% of the CPU of
// serving a note. Lines come out the same as With's.
type lazyAttrs struct {
	h     slog.Handler
	attrs []slog.Attr
}

func (l *lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(l.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(a)
		return true
	})
	return l.h.Handle(ctx, nr)
}

func (l *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lazyAttrs{h: l.h, attrs: append(slices.Clip(l.attrs), attrs...)}
}

// WithGroup formats the attributes so far, which stay outside the group.
func (l *lazyAttrs) WithGroup(name string) slog.Handler {
	return l.h.WithAttrs(l.attrs).WithGroup(name)
}

// observed wraps a handler of Slack's requests with their record.
func (b *Bot) observed(kind string, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, req := b.startRequest(r.Context(), kind, "http", "")
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK, req: req}
		h(sw, r.WithContext(ctx))
		b.endRequest(req, sw.status)
	}
}

// statusWriter remembers the status a handler answered with, and carries
// the record of the request it answers.
type statusWriter struct {
	http.ResponseWriter
	status int
	req    *request
}

// noteAnswerError records err on the record of the request w answers, so
// that the request's log line has it while the answer says less.
func noteAnswerError(w http.ResponseWriter, err error) {
	if sw, ok := w.(*statusWriter); ok && sw.req != nil {
		sw.req.mu.Lock()
		sw.req.err = err
		sw.req.mu.Unlock()
	}
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
