package intake_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake"
	"github.com/sitrep-dev/sitrep/intake/alertmanager"
	"github.com/sitrep-dev/sitrep/intake/datadog"
	"github.com/sitrep-dev/sitrep/intake/generic"
	"github.com/sitrep-dev/sitrep/intake/grafana"
	"github.com/sitrep-dev/sitrep/intake/pingdom"
	"github.com/sitrep-dev/sitrep/intake/sentry"
	"github.com/sitrep-dev/sitrep/intake/statuscake"
)

// now is the receive time of every test request; the recorded payloads are
// from other years, so their times are kept only where they are within a
// year of it.
var now = time.Date(2026, 12, 6, 15, 0, 0, 0, time.UTC)

const secret = "s3cret-for-tests"

// recorder is a Receiver that keeps what it is given, or fails.
type recorder struct {
	mu   sync.Mutex
	got  []incident.Alert
	fail error
}

func (r *recorder) ReceiveAlerts(_ context.Context, alerts []incident.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, alerts...)
	return nil
}

func sources() []intake.Source {
	return []intake.Source{alertmanager.Source{}, grafana.Source{}, sentry.Source{}, datadog.Source{}, pingdom.Source{}, statuscake.Source{}, generic.Source{}}
}

func server(t *testing.T, on ...string) (*httptest.Server, *recorder) {
	t.Helper()
	secrets := map[string]string{}
	for _, s := range on {
		secrets[s] = secret
	}
	rec := &recorder{}
	srv := httptest.NewServer(intake.NewHandler(sources(), secrets, rec, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv, rec
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "shared", "integrations", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(body []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// request builds a request to source as its sender would send it.
func request(t *testing.T, srv *httptest.Server, source string, body []byte, headers ...string) *http.Request {
	t.Helper()
	u := srv.URL + "/hooks/" + source
	ct := "application/json"
	h := http.Header{}
	switch source {
	case "alertmanager", "grafana", "datadog", "generic":
		h.Set("Authorization", "Bearer "+secret)
	case "sentry":
		h.Set("Sentry-Hook-Signature", sign(body, secret))
	case "pingdom":
		u += "?token=" + secret
	case "statuscake":
		u += "?token=" + secret
		ct = "application/x-www-form-urlencoded"
	}
	h.Set("Content-Type", ct)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			h.Del(headers[i])
		} else {
			h.Set(headers[i], headers[i+1])
		}
	}
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	return req
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestRecordedPayloads sends each sender's real payloads, as the sender
// sends them, and checks the alerts they become.
func TestRecordedPayloads(t *testing.T) {
	type want struct {
		key    string
		status incident.AlertStatus
		title  string
		link   string // a link the alert must carry
	}
	for _, tc := range []struct {
		source, file string
		headers      []string
		want         []want
	}{
		{"alertmanager", "alertmanager/v4-firing-first-notification.json", nil, []want{
			{"2ca2429e4f71b30e", incident.AlertFiring, "5xx ratio above 5% on web-1", "https://runbooks.example.internal/checkout/high-error-rate"},
			{"f1b1d5ac920ad37d", incident.AlertFiring, "5xx ratio above 5% on web-2", "http://prometheus.example.internal:9090/graph?g0.expr=job%3Ahttp_5xx_ratio%3Arate5m+%3E+0.05&g0.tab=1"},
		}},
		// The group still fires, but the body says one alert resolved.
		{"alertmanager", "alertmanager/v4-firing-one-resolved.json", nil, []want{
			{"2ca2429e4f71b30e", incident.AlertResolved, "5xx ratio above 5% on web-1", ""},
			{"f1b1d5ac920ad37d", incident.AlertFiring, "5xx ratio above 5% on web-2", ""},
		}},
		{"alertmanager", "alertmanager/v4-resolved-all.json", []string{"Authorization", "Basic YWxlcnRtYW5hZ2VyOnMzY3JldC1mb3ItdGVzdHM="}, []want{
			{"f1b1d5ac920ad37d", incident.AlertResolved, "5xx ratio above 5% on web-2", ""},
		}},
		{"grafana", "grafana/webhook-resolved.json", nil, []want{
			{"d8a21484c9c25a60", incident.AlertResolved, "This is a summary field, failure on <no value>", "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DTest+alert&matcher=test%3Dtrue"},
		}},
		{"sentry", "sentry/issue-created.json", []string{"Sentry-Hook-Resource", "issue"}, []want{
			{"issue:1635244907", incident.AlertFiring, "Exception: Custom exception!", ""},
		}},
		{"sentry", "sentry/issue-resolved.json", []string{"Sentry-Hook-Resource", "issue"}, []want{
			{"issue:1638821441", incident.AlertResolved, "", ""},
		}},
		{"sentry", "sentry/event-alert-triggered.json", []string{"Sentry-Hook-Resource", "event_alert"}, []want{
			{"issue:1117540176", incident.AlertFiring, "ReferenceError: heck is not defined", "https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/"},
		}},
		{"datadog", "datadog/sitrep-payload-triggered.rendered.json", nil, []want{
			{"309811/9bd4ac313a4d1e8fae2482df7b77628", incident.AlertFiring, "", "https://app.datadoghq.com/event/event?id="},
		}},
		{"datadog", "datadog/sitrep-payload-recovered.rendered.json", nil, []want{
			{"309811/9bd4ac313a4d1e8fae2482df7b77628", incident.AlertResolved, "", ""},
		}},
		{"pingdom", "pingdom/webhook-http-up-to-down.json", nil, []want{
			{"check:2048467", incident.AlertFiring, "Test check is down: DNS error", "http://someurl.com/"},
		}},
		{"pingdom", "pingdom/webhook-imap-down-to-up.json", nil, []want{{"", incident.AlertResolved, "", ""}}},
		{"statuscake", "statuscake/webhook-down.form.txt", nil, []want{
			{"https://shop.example.com/health Checkout health", incident.AlertFiring, "Checkout health is down", "https://shop.example.com/health"},
		}},
		{"statuscake", "statuscake/webhook-up.form.txt", nil, []want{
			{"https://shop.example.com/health Checkout health", incident.AlertResolved, "", ""},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			srv, rec := server(t, tc.source)
			if code, body := send(t, request(t, srv, tc.source, sample(t, tc.file), tc.headers...)); code != http.StatusOK {
				t.Fatalf("answered %d %s", code, body)
			}
			if len(rec.got) != len(tc.want) {
				t.Fatalf("%d alerts, want %d: %+v", len(rec.got), len(tc.want), rec.got)
			}
			for i, w := range tc.want {
				a := rec.got[i]
				if a.Source != tc.source || (w.key != "" && a.Key != w.key) || a.Status != w.status || (w.title != "" && a.Title != w.title) {
					t.Errorf("alert %d = %s %q %s %q, want %s %q %s %q", i, a.Source, a.Key, a.Status, a.Title, tc.source, w.key, w.status, w.title)
				}
				if a.Key == "" || a.Title == "" || a.StartsAt.IsZero() || (a.Status == incident.AlertResolved) == a.EndsAt.IsZero() {
					t.Errorf("alert %d lacks a key, title or times: %+v", i, a)
				}
				if w.link != "" && !hasLink(a, w.link) {
					t.Errorf("alert %d links %+v, want one starting %s", i, a.Links, w.link)
				}
			}
		})
	}
}

func hasLink(a incident.Alert, prefix string) bool {
	for _, l := range a.Links {
		if strings.HasPrefix(l.URL, prefix) {
			return true
		}
	}
	return false
}

// TestSentryTestVector checks the signature against the vector computed
// independently for the contract.
func TestSentryTestVector(t *testing.T) {
	body := sample(t, "sentry/issue-created.json")
	if got := sign(body, "sentry-client-secret-0000"); got != "88b1c373bc80ecec4db308fb18624efd2e91a52b438a9cf6ea750eed385b2213" {
		t.Fatalf("the test's own signing disagrees with the contract's vector: %s", got)
	}
	req := httptest.NewRequest(http.MethodPost, "/hooks/sentry", nil)
	req.Header.Set("Sentry-Hook-Signature", "88b1c373bc80ecec4db308fb18624efd2e91a52b438a9cf6ea750eed385b2213")
	if err := (sentry.Source{}).Authenticate(req, body, "sentry-client-secret-0000"); err != nil {
		t.Errorf("the contract's vector does not verify: %v", err)
	}
}

// TestBadInput sends what must be refused, each with the answer a sender
// can act on, and checks nothing was recorded.
func TestBadInput(t *testing.T) {
	am := sample(t, "alertmanager/v4-firing-first-notification.json")
	big := []byte(`{"dedup_key":"k","status":"firing","title":"` + strings.Repeat("x", intake.MaxBody) + `"}`)
	for _, tc := range []struct {
		name, source string
		on           []string
		body         []byte
		headers      []string
		code         int
		says         string
	}{
		{"a source that is off", "grafana", []string{"alertmanager"}, am, nil, 404, "secret is set"},
		{"an unknown source", "nagios", []string{"alertmanager"}, am, nil, 404, ""},
		{"no credential", "alertmanager", nil, am, []string{"Authorization", ""}, 401, "credential"},
		{"a wrong bearer token", "alertmanager", nil, am, []string{"Authorization", "Bearer nope"}, 401, ""},
		{"a wrong basic password", "alertmanager", nil, am, []string{"Authorization", "Basic YWxlcnRtYW5hZ2VyOm5vcGU="}, 401, ""},
		{"a Sentry signature over another body", "sentry", nil, sample(t, "sentry/issue-created.json"), []string{"Sentry-Hook-Resource", "issue", "Sentry-Hook-Signature", sign([]byte("{}"), secret)}, 401, ""},
		{"a token in the wrong place", "generic", nil, []byte(`{"dedup_key":"k","status":"firing","title":"t"}`), []string{"Authorization", "Token " + secret}, 401, ""},
		{"a body over 1 MiB", "generic", nil, big, nil, 413, "over"},
		{"malformed JSON", "alertmanager", nil, []byte(`{"version":"4","alerts":[`), nil, 400, "not valid JSON"},
		{"the wrong content type", "alertmanager", nil, am, []string{"Content-Type", "text/plain"}, 400, "sent as JSON"},
		{"a form sent as JSON", "statuscake", nil, []byte(`{"Name":"x"}`), []string{"Content-Type", "application/json"}, 400, "is a form"},
		{"Grafana's JSON sent to Alertmanager's endpoint", "alertmanager", nil, sample(t, "grafana/webhook-resolved.json"), nil, 400, "version 4"},
		{"Alertmanager's JSON sent to Grafana's endpoint", "grafana", nil, am, nil, 400, "not a Grafana"},
		{"a missing key", "generic", nil, []byte(`{"status":"firing","title":"t"}`), nil, 400, "dedup_key"},
		{"an unknown status", "generic", nil, []byte(`{"dedup_key":"k","status":"exploded","title":"t"}`), nil, 400, `"exploded"`},
		{"an unknown Alertmanager status", "alertmanager", nil, []byte(`{"version":"4","alerts":[{"status":"pending","fingerprint":"ab","labels":{}}]}`), nil, 400, `"pending"`},
		{"a field of the wrong type", "generic", nil, []byte(`{"dedup_key":"k","status":"firing","labels":["a"]}`), nil, 400, "labels"},
		{"a Sentry webhook without its resource", "sentry", nil, sample(t, "sentry/issue-created.json"), nil, 400, "Sentry-Hook-Resource"},
		{"a Datadog webhook without Sitrep's template", "datadog", nil, sample(t, "datadog/default-payload-triggered.rendered.json"), nil, 400, "template"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			on := tc.on
			if on == nil {
				on = []string{tc.source}
			}
			srv, rec := server(t, on...)
			code, body := send(t, request(t, srv, tc.source, tc.body, tc.headers...))
			if code != tc.code || !strings.Contains(body, tc.says) {
				t.Errorf("answered %d %q, want %d saying %q", code, body, tc.code, tc.says)
			}
			if strings.Count(body, "\n") > 0 {
				t.Errorf("the answer is more than one line: %q", body)
			}
			if len(rec.got) != 0 {
				t.Errorf("recorded %d alerts from a refused request", len(rec.got))
			}
		})
	}
}

// TestSanitized sends alerts that are odd but not wrong: they are taken,
// brought within bounds.
func TestSanitized(t *testing.T) {
	labels := make([]string, 0, 10000)
	for i := range 10000 {
		labels = append(labels, fmt.Sprintf(`"l%05d":"v"`, i))
	}
	for _, tc := range []struct {
		name  string
		body  string
		check func(t *testing.T, a incident.Alert)
	}{
		{"10,000 labels", `{"dedup_key":"k","status":"firing","title":"t","labels":{` + strings.Join(labels, ",") + `}}`, func(t *testing.T, a incident.Alert) {
			if len(a.Labels) != incident.MaxAlertLabels || a.Labels["sitrep_dropped_labels"] == "" {
				t.Errorf("%d labels, want %d saying how many were dropped", len(a.Labels), incident.MaxAlertLabels)
			}
		}},
		{"a label value of 100 kB", `{"dedup_key":"k","status":"firing","title":"t","labels":{"big":"` + strings.Repeat("y", 100_000) + `"}}`, func(t *testing.T, a incident.Alert) {
			if n := len([]rune(a.Labels["big"])); n > 1000 {
				t.Errorf("the label kept %d characters", n)
			}
		}},
		{"invalid UTF-8", "{\"dedup_key\":\"k\",\"status\":\"firing\",\"title\":\"bad \xff\xfe title\"}", func(t *testing.T, a incident.Alert) {
			// encoding/json turns each invalid byte into U+FFFD.
			if a.Title != "bad \uFFFD\uFFFD title" {
				t.Errorf("title %q", a.Title)
			}
		}},
		{"a time far in the past", `{"dedup_key":"k","status":"firing","title":"t","started_at":"1970-01-01T00:00:00Z"}`, func(t *testing.T, a incident.Alert) {
			if !a.StartsAt.Equal(now) {
				t.Errorf("StartsAt %v, want the receive time", a.StartsAt)
			}
		}},
		{"a time far in the future", `{"dedup_key":"k","status":"firing","title":"t","started_at":"2999-01-01T00:00:00Z"}`, func(t *testing.T, a incident.Alert) {
			if !a.StartsAt.Equal(now) {
				t.Errorf("StartsAt %v, want the receive time", a.StartsAt)
			}
		}},
		{"a javascript: link", `{"dedup_key":"k","status":"firing","title":"t","links":[{"text":"x","url":"javascript:alert(1)"},{"text":"ok","url":"https://ok.example"}]}`, func(t *testing.T, a incident.Alert) {
			if len(a.Links) != 1 || a.Links[0].URL != "https://ok.example" {
				t.Errorf("links %+v, want only the https one", a.Links)
			}
		}},
		{"no title", `{"dedup_key":"k","status":"firing","labels":{"alertname":"DiskFull"}}`, func(t *testing.T, a incident.Alert) {
			if a.Title != "DiskFull" {
				t.Errorf("title %q, want the alertname", a.Title)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, rec := server(t, "generic")
			if code, body := send(t, request(t, srv, "generic", []byte(tc.body))); code != http.StatusOK {
				t.Fatalf("answered %d %s", code, body)
			}
			if len(rec.got) != 1 {
				t.Fatalf("%d alerts", len(rec.got))
			}
			tc.check(t, rec.got[0])
		})
	}
}

// TestTroubleIsA5xx: when the alerts cannot be recorded, the sender is told
// to send again with a 503, never a 4xx (Alertmanager drops a notification
// on any 4xx).
func TestTroubleIsA5xx(t *testing.T) {
	srv, rec := server(t, "alertmanager")
	rec.fail = fmt.Errorf("database is locked")
	code, body := send(t, request(t, srv, "alertmanager", sample(t, "alertmanager/v4-firing-first-notification.json")))
	if code != http.StatusServiceUnavailable || strings.Contains(body, "locked") {
		t.Errorf("answered %d %q, want 503 without the internal error", code, body)
	}
}
