package incident_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sitrep-dev/sitrep/incident"
)

// TestTextIsCheckedEverywhere sends invalid UTF-8 and control characters
// through every way a person's text reaches the record. Each is refused
// with a message that names the field, what is wrong and what to do, and
// nothing is recorded.
func TestTextIsCheckedEverywhere(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	declare(t, svc, "Checkout failing")
	msg := func(text string) incident.Message {
		return incident.Message{At: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC), Author: "U2", Text: text, Key: "C1/" + text}
	}
	ways := []struct {
		name  string
		field string
		do    func(text string) error
	}{
		{"title", "title", func(s string) error {
			_, err := svc.Declare(ctx, incident.Declaration{Title: s, Actor: "U1"})
			return err
		}},
		{"impact", "impact", func(s string) error {
			_, err := svc.Declare(ctx, incident.Declaration{Title: "Search down", Impact: s, Actor: "U1"})
			return err
		}},
		{"summary", "summary", func(s string) error {
			_, err := svc.Declare(ctx, incident.Declaration{Title: "Search down", Summary: s, Actor: "U1"})
			return err
		}},
		{"service", "affected services", func(s string) error {
			_, err := svc.Declare(ctx, incident.Declaration{Title: "Search down", Services: []string{"api", s}, Actor: "U1"})
			return err
		}},
		{"note", "note", func(s string) error { _, err := svc.AddNote(ctx, 1, "U1", s); return err }},
		{"update", "update", func(s string) error { _, err := svc.PostUpdate(ctx, 1, "U1", s); return err }},
		{"resolve summary", "summary", func(s string) error { _, err := svc.Resolve(ctx, 1, "U1", s); return err }},
		{"reopen reason", "reason", func(s string) error { _, err := svc.Reopen(ctx, 1, "U1", s); return err }},
		{"follow-up", "follow-up", func(s string) error { _, err := svc.AddFollowUp(ctx, 1, "U1", s, ""); return err }},
		{"message", "message", func(s string) error { _, err := svc.AddMessage(ctx, 1, "U1", msg(s)); return err }},
	}
	bad := []struct {
		name, text, want string
	}{
		{"invalid UTF-8", "DB \xff\xfe down", "invalid UTF-8"},
		{"a lone continuation byte", "caf\x80", "invalid UTF-8"},
		{"NUL", "DB\x00down", "control character (NUL, U+0000) in it, at character 3"},
		{"escape sequence", "DB \x1b[31mdown", "control character (escape, U+001B)"},
		{"backspace", "DB\bdown", "U+0008"},
		{"DEL", "DB down\x7f", "U+007F"},
		{"C1 control", "DB \u009bdown", "U+009B"},
	}
	before, events, _ := svc.Timeline(ctx, 1)
	for _, w := range ways {
		for _, b := range bad {
			t.Run(w.name+"/"+b.name, func(t *testing.T) {
				err := w.do(b.text)
				if incident.ErrorCode(err) != incident.EINVALID || incident.ErrorField(err) != w.field {
					t.Fatalf("got %v (code %q, field %q), want EINVALID on %q", err, incident.ErrorCode(err), incident.ErrorField(err), w.field)
				}
				if m := incident.ErrorMessage(err); !strings.Contains(m, b.want) || !strings.Contains(m, "The "+w.field) || !strings.Contains(m, "Type it again") {
					t.Errorf("message %q does not say what was wrong (%q) in the %s and what to do", m, b.want, w.field)
				}
			})
		}
	}
	after, events2, _ := svc.Timeline(ctx, 1)
	if after.Version != before.Version || len(events2) != len(events) {
		t.Errorf("refused texts left traces: version %d → %d", before.Version, after.Version)
	}
	if incs, _ := svc.List(ctx, incident.ListFilter{}); len(incs) != 1 {
		t.Errorf("refused declarations made %d incidents", len(incs)-1)
	}
}

// TestTextKeepsWhatIsMeant checks what the rules let through and how they
// tidy it: titles fold white space, free text keeps its lines and tabs and
// gets "\n" line endings, lists drop blanks and repeats.
func TestTextKeepsWhatIsMeant(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	inc, err := svc.Declare(ctx, incident.Declaration{
		Title:    " DB\tdown\r\n in  eu \u00a0",
		Impact:   "line one\r\nline two\rline three\n\tindented",
		Services: []string{" api ", "", "api", "search  index", "決済"},
		Actor:    "U1",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []any{inc.Title, inc.Impact, inc.Services}
	want := []any{"DB down in eu", "line one\nline two\nline three\n\tindented", []string{"api", "search index", "決済"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cleaned text (-want +got):\n%s", diff)
	}
	for _, ok := range []string{"🔥 fire 🔥", "👩‍💻 on it", "R&amp;D &lt;3"} {
		if _, err := svc.AddNote(ctx, inc.Number, "U1", ok); err != nil {
			t.Errorf("note %q refused: %v", ok, err)
		}
	}
	if _, err := svc.Declare(ctx, incident.Declaration{Title: "x", Services: []string{strings.Repeat("s", 101)}, Actor: "U1"}); incident.ErrorField(err) != "affected services" {
		t.Errorf("a 101-character service name answered %v, want an error on the affected services", err)
	}
}
