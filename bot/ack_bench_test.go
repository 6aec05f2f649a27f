// The fuzzing in .ci/run builds with -tags nosqlitebench: benchmarks on
// SQLite would make it compile SQLite's C code once more, for nothing.

//go:build !nosqlitebench

package bot

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/internal/slackfake"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

// BenchmarkAcknowledge measures the CPU the bot spends answering one
// signed slash command, in-process (no network): help, which writes
// nothing, and a note, which writes one timeline event; next to the
// signature check alone. cmd/sitrep-bench measures the same over loopback
// with 50 clients.
func BenchmarkAcknowledge(b *testing.B) {
	ctx := context.Background()
	fake := slackfake.New()
	b.Cleanup(fake.Close)
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := incident.NewService(db, incident.DefaultConfig(), time.Now)
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))
	const secret = "bench-signing-secret"
	bot := New(api, svc, Options{SigningSecret: secret}, slog.New(slog.NewJSONHandler(io.Discard, nil)), clock.Real{})
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Bench", Actor: "U1"})
	if err != nil {
		b.Fatal(err)
	}
	d := incident.Delivery{Integration: integrationName, IncidentID: inc.ID}
	if err := (chatState{ChannelID: "C0BENCH"}).store(&d); err != nil {
		b.Fatal(err)
	}
	if err := svc.SaveDelivery(ctx, d); err != nil {
		b.Fatal(err)
	}
	h := bot.Handler()
	request := func(text string) *http.Request {
		body := "token=x&team_id=T1&channel_id=C0BENCH&user_id=U1&command=%2Fincident&text=" + url.QueryEscape(text) + "&response_url=&trigger_id=1.2.3"
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		r := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Slack-Request-Timestamp", ts)
		r.Header.Set("X-Slack-Signature", sign([]byte(secret), ts, []byte(body)))
		return r
	}
	for _, bc := range []struct{ name, text string }{{"help", "help"}, {"note", "note benchmark"}, {"verify only", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := request(bc.text)
				w := httptest.NewRecorder()
				if bc.name == "verify only" {
					if _, err := bot.verify.readVerified(r); err != nil {
						b.Fatal(err)
					}
					continue
				}
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("answered %d: %s", w.Code, w.Body)
				}
			}
		})
	}
	bot.Wait(time.Second)
}
