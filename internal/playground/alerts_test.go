package playground

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	"github.com/sitrep-dev/sitrep/intake/zendesk"
)

// recordedKeys are the top-level fields of a sender's recorded payload
// (testdata/shared/integrations), or of its form.
func recordedKeys(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "shared", "integrations", file))
	if err != nil {
		t.Fatal(err)
	}
	return bodyKeys(t, b)
}

func bodyKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var keys []string
	if b[0] != '{' {
		for _, kv := range strings.Split(string(b), "&") {
			k, _, _ := strings.Cut(kv, "=")
			keys = append(keys, k)
		}
		return keys
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestAlertBodies: every sender's alert is its real webhook, with the
// recorded payload's fields, which the sender's own intake source reads
// as one alert, firing then resolved under the same key; the credential
// is the one that source checks.
func TestAlertBodies(t *testing.T) {
	sources := map[string]intake.Source{
		"alertmanager": alertmanager.Source{}, "grafana": grafana.Source{}, "sentry": sentry.Source{},
		"datadog": datadog.Source{}, "pingdom": pingdom.Source{}, "statuscake": statuscake.Source{}, "generic": generic.Source{},
		"zendesk": zendesk.Source{},
	}
	recorded := map[string]string{
		"alertmanager": "alertmanager/v4-firing-first-notification.json", "grafana": "grafana/webhook-firing-v11.json",
		"sentry": "sentry/issue-created.json", "datadog": "datadog/sitrep-payload-triggered.rendered.json",
		"pingdom": "pingdom/webhook-http-up-to-down.json", "statuscake": "statuscake/webhook-down.form.txt",
		"zendesk": "zendesk/trigger-webhook-new-ticket.json",
	}
	now := time.Now()
	const secret = "playground-test-secret"
	if len(AlertSources) != len(sources) {
		t.Fatalf("the panel lists %d senders, intake has %d", len(AlertSources), len(sources))
	}
	for _, s := range AlertSources {
		src := sources[s.Name]
		if src == nil {
			t.Fatalf("the panel lists %q, which is no intake source", s.Name)
		}
		var key string
		for _, firing := range []bool{true, false} {
			body, ct, err := alertBody(s.Name, firing, now)
			if err != nil {
				t.Fatal(err)
			}
			if file := recorded[s.Name]; file != "" && firing {
				if got, want := bodyKeys(t, body), recordedKeys(t, file); !slices.Equal(got, want) {
					t.Errorf("%s's body has the fields %v, the recorded payload %v", s.Name, got, want)
				}
			}
			r := httptest.NewRequest(http.MethodPost, "/hooks/"+s.Name, bytes.NewReader(body))
			r.Header.Set("Content-Type", ct)
			authenticate(r, s.Name, body, secret)
			if err := src.Authenticate(r, body, secret); err != nil {
				t.Errorf("%s: the credential sent is refused: %v", s.Name, err)
			}
			if err := src.Authenticate(r, body, "another secret"); err == nil {
				t.Errorf("%s: the credential sent passes with another secret", s.Name)
			}
			alerts, err := src.Parse(r, body, now)
			if err != nil || len(alerts) != 1 {
				t.Fatalf("%s (firing %v): %d alerts, %v; want one", s.Name, firing, len(alerts), err)
			}
			a := alerts[0]
			want := map[bool]incident.AlertStatus{true: incident.AlertFiring, false: incident.AlertResolved}[firing]
			if a.Status != want || a.Title == "" {
				t.Errorf("%s (firing %v): status %q, title %q", s.Name, firing, a.Status, a.Title)
			}
			if firing {
				key = a.Key
				if a.StartsAt.Before(now.Add(-time.Hour)) || a.StartsAt.After(now) {
					t.Errorf("%s's alert started at %s, want just before now", s.Name, a.StartsAt)
				}
			} else if a.Key != key {
				t.Errorf("%s resolves the key %q, fired %q", s.Name, a.Key, key)
			}
		}
	}
	if _, _, err := alertBody("nagios", true, now); err == nil {
		t.Error("a body for an unknown sender")
	}
}
