package zendesk

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
)

// The test vector of testdata/shared/integrations/zendesk/webhook.md.
const (
	vectorSecret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
	vectorTime   = "2026-12-06T14:29:52Z"
	vectorSig    = "c9FkygjAMrMNuE4/+TjLloNJPJCfuYjjn4OHrJKfWok="
)

func ticket(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "shared", "integrations", "zendesk", "trigger-webhook-new-ticket.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func request(sig, ts string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "/hooks/zendesk", nil)
	if sig != "" {
		r.Header.Set("X-Zendesk-Webhook-Signature", sig)
	}
	if ts != "" {
		r.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
	}
	return r
}

func TestAuthenticate(t *testing.T) {
	body := ticket(t)
	at, _ := time.Parse(time.RFC3339, vectorTime)
	src := Source{Now: func() time.Time { return at.Add(time.Minute) }}
	if err := src.Authenticate(request(vectorSig, vectorTime), body, vectorSecret); err != nil {
		t.Fatalf("the documented vector: %v", err)
	}
	for name, r := range map[string]*http.Request{
		"forged signature":  request("tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=", vectorTime),
		"no signature":      request("", vectorTime),
		"no timestamp":      request(vectorSig, ""),
		"another timestamp": request(vectorSig, "2026-12-06T14:29:53Z"),
	} {
		if err := src.Authenticate(r, body, vectorSecret); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := src.Authenticate(request(vectorSig, vectorTime), append(body, ' '), vectorSecret); err == nil {
		t.Errorf("a changed body: accepted")
	}
	stale := Source{Now: func() time.Time { return at.Add(MaxSkew + time.Second) }}
	if err := stale.Authenticate(request(vectorSig, vectorTime), body, vectorSecret); err == nil {
		t.Errorf("a stale timestamp: accepted")
	}
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 6, 14, 30, 0, 0, time.UTC)
	alerts, err := Source{}.Parse(nil, ticket(t), now)
	if err != nil {
		t.Fatal(err)
	}
	a := alerts[0]
	if a.Key != "ticket-35436" || a.Status != incident.AlertFiring || a.Title != "Zendesk #35436: Checkout keeps failing with error 502" ||
		a.Labels["tag_payment_failure"] != "true" || a.Labels["priority"] != "High" || a.Links[0].URL != "https://example.zendesk.com/agent/tickets/35436" ||
		!a.StartsAt.Equal(time.Date(2026, 12, 6, 14, 29, 51, 0, time.UTC)) || !strings.Contains(a.Annotations["description"], "502 Bad Gateway") {
		t.Errorf("alert: %+v", a)
	}
	for k, v := range a.Labels {
		if strings.Contains(v, "maria.lopez@example.com") || strings.Contains(k, "email") {
			t.Errorf("the requester's email is kept: %s=%s", k, v)
		}
	}
	solved := strings.Replace(string(ticket(t)), `"status": "New"`, `"status": "Solved"`, 1)
	if alerts, err := (Source{}).Parse(nil, []byte(solved), now); err != nil || alerts[0].Status != incident.AlertResolved {
		t.Errorf("a solved ticket: %+v, %v", alerts, err)
	}
	for _, bad := range []string{`not json`, `{}`, `{"ticket":{"title":"x"}}`} {
		if _, err := (Source{}).Parse(nil, []byte(bad), now); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
}
