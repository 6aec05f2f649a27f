package twilio_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/intake/twilio"
	"github.com/sitrep-dev/sitrep/oncall"
	"github.com/sitrep-dev/sitrep/storage/sqlite"
)

const dir = "../../testdata/shared/integrations/twilio"

type vectors struct {
	SDK []struct {
		Name       string      `json:"name"`
		Token      string      `json:"auth_token"`
		URL        string      `json:"url"`
		Params     [][2]string `json:"params"`
		ParamsFrom string      `json:"params_from"`
		Body       string      `json:"body"`
		Expected   string      `json:"expected"`
	} `json:"sdk_vectors"`
	Sitrep struct {
		Token string `json:"auth_token"`
		Cases []struct {
			File, URL, Expected string
		} `json:"cases"`
		MustNotMatch []struct {
			Why  string `json:"why"`
			File string `json:"file"`
			URL  string `json:"url"`
		} `json:"must_not_match"`
		Port struct {
			File, URL, Expected string
		} `json:"port_variant"`
		Prefix struct {
			URL      string      `json:"url"`
			Params   [][2]string `json:"params"`
			Expected string      `json:"expected"`
		} `json:"prefix_name_trap"`
	} `json:"sitrep_vectors"`
}

func load(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "signature-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func form(t *testing.T, file string) url.Values {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func values(ps [][2]string) url.Values {
	v := url.Values{}
	for _, p := range ps {
		v.Add(p[0], p[1])
	}
	return v
}

// TestSignatureVectors checks every vector: the SDKs', Sitrep's over each
// recorded callback, the URLs that must not match, the port variant and
// the name-prefix trap.
func TestSignatureVectors(t *testing.T) {
	v := load(t)
	canonical := url.Values{}
	for _, c := range v.SDK {
		if c.Body != "" {
			continue // a JSON-bodied webhook: not a kind Sitrep takes
		}
		p := values(c.Params)
		if c.Name == "canonical SDK vector" {
			canonical = p
		}
		if c.ParamsFrom != "" {
			p = canonical
		}
		if !twilio.Valid(c.Token, c.URL, p, c.Expected) {
			t.Errorf("%s: not valid (computed %s)", c.Name, twilio.Signature(c.Token, c.URL, p))
		}
	}
	s := v.Sitrep
	for _, c := range s.Cases {
		if got := twilio.Signature(s.Token, c.URL, form(t, c.File)); got != c.Expected {
			t.Errorf("%s: %s, want %s", c.File, got, c.Expected)
		}
	}
	gather := s.Cases[len(s.Cases)-1]
	for _, c := range s.MustNotMatch {
		if twilio.Valid(s.Token, c.URL, form(t, c.File), gather.Expected) {
			t.Errorf("%s: the gather signature verified over %s", c.Why, c.URL)
		}
	}
	if !twilio.Valid(s.Token, gather.URL, form(t, s.Port.File), s.Port.Expected) {
		t.Error("a signature over the URL with :443 does not verify")
	}
	if got := twilio.Signature(s.Token, s.Prefix.URL, values(s.Prefix.Params)); got != s.Prefix.Expected {
		t.Errorf("prefix trap: %s, want %s", got, s.Prefix.Expected)
	}
}

// TestGather acknowledges a page by a key press on its call, and refuses
// an unsigned callback.
func TestGather(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sitrep.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	plan, err := oncall.Config{Policies: []oncall.PolicyConfig{{Name: "default", Steps: []oncall.StepConfig{{Notify: "user:U0BOB", After: "5m", Call: true}}}},
		Phones: map[string]string{"U0BOB": "+15558675310"}}.Compile(incident.DefaultConfig().SeverityNames())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	svc := incident.NewService(db, incident.DefaultConfig(), func() time.Time { return now })
	svc.UsePaging(plan)
	inc, err := svc.Declare(ctx, incident.Declaration{Title: "Checkout down", Severity: "sev1", Actor: "U0ANN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SendPageSteps(ctx, inc.Number); err != nil {
		t.Fatal(err)
	}
	const token = "0f8c6b1d2e3a4f5b6c7d8e9fa0b1c2d3"
	const public = "https://sitrep.example.com"
	h := twilio.NewHandler(token, public, svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	press := func(digits, user, sig string) (int, string) {
		f := form(t, "callback-gather-digits.form.txt")
		f.Set("Digits", digits)
		path := "/hooks/twilio/gather?incident=1&page=1&user=" + user
		if sig == "" {
			sig = twilio.Signature(token, public+path, f)
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, _ := press("1", "U0BOB", "bm90IGEgc2lnbmF0dXJl"); code != http.StatusForbidden {
		t.Fatalf("unsigned: %d", code)
	}
	if code, body := press("7", "U0BOB", ""); code != 200 || !strings.Contains(body, "Wrong key") || !strings.Contains(body, "&amp;page=1") {
		t.Fatalf("wrong key: %d %s", code, body)
	}
	if code, body := press("1", "U0MALLORY", ""); code != 200 || !strings.Contains(body, "meant for someone else") {
		t.Fatalf("someone else: %d %s", code, body)
	}
	if code, body := press("1", "U0BOB", ""); code != 200 || !strings.Contains(body, "Acknowledged") {
		t.Fatalf("acknowledge: %d %s", code, body)
	}
	got, _ := svc.Get(ctx, inc.Number)
	if p := got.Pages[0]; p.State != incident.PageAcknowledged || p.AckBy != "U0BOB" {
		t.Fatalf("page: %+v", p)
	}
	if _, body := press("1", "U0BOB", ""); !strings.Contains(body, "already acknowledged") {
		t.Fatalf("again: %s", body)
	}
}
