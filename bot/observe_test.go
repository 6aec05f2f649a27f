package bot

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

// TestRequestLoggerLinesAsWith: a request's logger (lazyAttrs) writes the
// same lines slog's With would, attribute for attribute and in the same
// order, through further With, groups and levels.
func TestRequestLoggerLinesAsWith(t *testing.T) {
	noTime := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}}
	var eager, lazy bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&eager, noTime)).With("in", "bot")
	lazyBase := slog.New(slog.NewJSONHandler(&lazy, noTime)).With("in", "bot")
	b := &Bot{log: lazyBase}
	ctx, _ := b.startRequest(context.Background(), kindCommand, "http", "r1")
	logs := []*slog.Logger{base.With("request_id", "r1"), b.logFor(ctx)}
	for _, log := range logs {
		l := log.With("user", "U1", "subcommand", "note")
		l.Info("noted", "incident", 7)
		l.Debug("not written")
		l.With(slog.Group("g", "a", 1)).Warn("grouped", "b", 2)
		l.WithGroup("slack").With("method", "chat.postMessage").Error("refused", "error", "channel_not_found")
		log.Info("plain")
	}
	if eager.String() != lazy.String() {
		t.Errorf("a request's logger wrote\n%s\nwhere With writes\n%s", lazy.String(), eager.String())
	}
	if !bytes.Contains(lazy.Bytes(), []byte(`{"level":"INFO","msg":"noted","in":"bot","request_id":"r1","user":"U1","subcommand":"note","incident":7}`)) {
		t.Errorf("no line with the request's attributes in order:\n%s", lazy.String())
	}
}
