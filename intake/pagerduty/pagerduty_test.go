package pagerduty_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake/pagerduty"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

const dir = "../../testdata/shared/integrations/pagerduty"

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVerifyVector checks go-pagerduty's signing vector, alone and among
// several signatures as during a secret's rotation.
func TestVerifyVector(t *testing.T) {
	body := read(t, "webhook-v3-signing-vector.body.json")
	const secret = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
	const sig = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
	if len(body) != 1655 {
		t.Fatalf("vector body is %d bytes, want 1655", len(body))
	}
	for _, tt := range []struct {
		name, header string
		want         bool
	}{
		{"the vector", sig, true},
		{"second of several", "v1=00ff, " + sig, true},
		{"first of several", sig + ",v1=00ff", true},
		{"another version ignored", "v2=" + sig[3:], false},
		{"wrong", "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476ce", false},
		{"not hex", "v1=zz", false},
		{"empty", "", false},
	} {
		if got := pagerduty.Verify(tt.header, body, secret); got != tt.want {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.want)
		}
	}
	if pagerduty.Verify(sig, append(body, '\n'), secret) {
		t.Error("a changed body verified")
	}
}

const secret = "pd-webhook-secret"

func sign(body []byte, s string) string {
	mac := hmac.New(sha256.New, []byte(s))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// TestWebhooks records PagerDuty's acknowledged and resolved webhooks on
// the incident Sitrep triggered, with the responder's name, and refuses
// what is not signed.
func TestWebhooks(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sitrep.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2021, 6, 4, 14, 0, 0, 0, time.UTC) // the fixtures' day
	plan, err := oncall.Config{Policies: []oncall.PolicyConfig{{Name: "default", Steps: []oncall.StepConfig{{Notify: "user:U0BOB", After: "5m"}, {Notify: "user:U0DAVE", After: "5m"}}}}}.
		Compile(incident.DefaultConfig().SeverityNames())
	if err != nil {
		t.Fatal(err)
	}
	svc := incident.NewService(db, incident.DefaultConfig(), func() time.Time { return now })
	svc.UsePaging(plan)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev1", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendPageSteps(ctx, inc.Number); err != nil {
		t.Fatal(err)
	}
	h := pagerduty.NewHandler(secret, svc, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ours := func(name string) []byte {
		return []byte(strings.Replace(string(read(t, name)), `"title": "Test Incident"`, `"title": "Sitrep #1 (sev1): Checkout down"`, 1))
	}
	post := func(body []byte, sig, id string) int {
		req := httptest.NewRequest(http.MethodPost, "/hooks/pagerduty", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-PagerDuty-Signature", sig)
		}
		req.Header.Set("X-Webhook-Id", id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	ack := ours("webhook-v3-incident-acknowledged.json")
	if !strings.Contains(string(ack), "Sitrep #1") {
		t.Fatal("fixture title not replaced")
	}
	for _, tt := range []struct {
		name, sig string
	}{{"missing", ""}, {"wrong", sign(ack, "another secret")}, {"not v1", "v0=" + sign(ack, secret)[3:]}} {
		if code := post(ack, tt.sig, "W1"); code != http.StatusUnauthorized {
			t.Errorf("%s signature: %d, want 401", tt.name, code)
		}
	}
	got, _ := svc.Get(ctx, inc.Number)
	if got.Pages[0].State != incident.PageOpen {
		t.Fatalf("an unsigned webhook acknowledged the page: %+v", got.Pages[0])
	}
	if code := post(ack, sign(ack, secret), "W1"); code != http.StatusNoContent {
		t.Fatalf("acknowledged: %d", code)
	}
	got, _ = svc.Get(ctx, inc.Number)
	if p := got.Pages[0]; p.State != incident.PageAcknowledged || p.AckBy != "PIG 208" || p.AckVia != "pagerduty" || !got.NextPageAt.IsZero() {
		t.Fatalf("page after PagerDuty's ack: %+v", p)
	}
	// The same webhook again records nothing more.
	if code := post(ack, sign(ack, secret), "W1"); code != http.StatusNoContent {
		t.Fatalf("redelivery: %d", code)
	}
	resolved := ours("webhook-v3-incident-resolved.json")
	if code := post(resolved, sign(resolved, secret), "W2"); code != http.StatusNoContent {
		t.Fatalf("resolved: %d", code)
	}
	_, evs, err := svc.Timeline(ctx, inc.Number)
	if err != nil {
		t.Fatal(err)
	}
	var pd []string
	for _, e := range evs {
		if e.Kind == incident.KindPagerDuty || e.Kind == incident.KindPageAck {
			pd = append(pd, e.Describe(func(u string) string { return u }))
		}
	}
	want := []string{"PagerDuty: acknowledged by PIG 208", "Page acknowledged by PIG 208 in PagerDuty after 0s", "PagerDuty: resolved by PIG 208"}
	if strings.Join(pd, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(pd, "\n"), strings.Join(want, "\n"))
	}
	// Not Sitrep's incident: taken and ignored.
	other := read(t, "webhook-v3-incident-triggered.json")
	if code := post(other, sign(other, secret), "W3"); code != http.StatusNoContent {
		t.Errorf("another incident: %d", code)
	}
	// Stale: signed, but older than PagerDuty's 48 hours of retries.
	now = now.Add(72 * time.Hour)
	if code := post(resolved, sign(resolved, secret), "W4"); code != http.StatusUnauthorized {
		t.Errorf("stale: %d, want 401", code)
	}
	if code := post([]byte(`{"messages":[]}`), sign([]byte(`{"messages":[]}`), secret), "W5"); code != http.StatusBadRequest {
		t.Errorf("v2 body: %d, want 400", code)
	}
}
