package postmortem_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

// reader is a postmortem.Reader of one incident.
type reader struct {
	inc    *incident.Incident
	events []incident.Event
}

func (r reader) Timeline(_ context.Context, n int64) (*incident.Incident, []incident.Event, error) {
	if r.inc == nil || n != r.inc.Number {
		return nil, nil, incident.Errorf(incident.ENOTFOUND, "There is no incident #%d.", n)
	}
	return r.inc, r.events, nil
}

// TestWrite: Write is Build and Render of what the reader reads, as the
// Slack command and the offline command both use it.
func TestWrite(t *testing.T) {
	inc, events, _ := seed004()
	tmpl, err := templates.Postmortem("")
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("America/Los_Angeles")
	doc, err := postmortem.Write(context.Background(), reader{inc, events}, inc.Number, postmortem.Options{Template: tmpl, TimeZone: loc, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(render(t, build(inc, events))), string(doc.Markdown)); diff != "" {
		t.Errorf("Write differs from Build and Render (-want +got):\n%s", diff)
	}
	if doc.Entries != len(events) || doc.Incident != inc {
		t.Errorf("Write says it read %d entries of incident %p, want %d of %p", doc.Entries, doc.Incident, len(events), inc)
	}
	page, err := doc.HTMLPage()
	if err != nil {
		t.Fatal(err)
	}
	frag, _ := postmortem.HTML(doc.Markdown)
	if !bytes.Contains(page, frag) || !bytes.HasPrefix(page, []byte("<!doctype html>\n")) {
		t.Errorf("HTMLPage is not a page around the HTML:\n%.400s", page)
	} // A page that reads well alone: a stylesheet in the head, with
	// times that do not wrap, phone-width tables whose rows stack, and
	// print rules.
	head, _, _ := bytes.Cut(page, []byte("</head>"))
	for _, want := range []string{"<style>", "white-space: nowrap", "@media (max-width: 40rem)", "tr { border", "@media print", "</style>"} {
		if !bytes.Contains(head, []byte(want)) {
			t.Errorf("the page's head lacks %q", want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	inc, events, _ := seed004()
	ctx := context.Background()
	tmpl, _ := templates.Postmortem("")
	_, err := postmortem.Write(ctx, reader{inc, events}, inc.Number+1, postmortem.Options{Template: tmpl})
	if incident.ErrorCode(err) != incident.ENOTFOUND {
		t.Errorf("a missing incident: %v, want ENOTFOUND", err)
	}
	var te *postmortem.TemplateError
	if errors.As(err, &te) {
		t.Errorf("a missing incident is a TemplateError: %v", err)
	}
	bad := template.Must(template.New("bad").Funcs(postmortem.Funcs()).Option("missingkey=error").Parse("{{.NoSuchField}}"))
	_, err = postmortem.Write(ctx, reader{inc, events}, inc.Number, postmortem.Options{Template: bad})
	if !errors.As(err, &te) {
		t.Errorf("a template failing on the incident: %v, want a TemplateError", err)
	}
}

// TestTitle: the page title is plain text: Slack's entities decoded,
// spaces folded, drills marked.
func TestTitle(t *testing.T) {
	for _, tc := range []struct {
		inc  incident.Incident
		want string
	}{
		{incident.Incident{Number: 7, Title: "p99 &gt; 2s &amp;  rising", Status: incident.Resolved}, "Postmortem: #7 p99 > 2s & rising"},
		{incident.Incident{Number: 8, Title: "Game day", Drill: true, Status: incident.Closed}, "[DRILL] Postmortem: #8 Game day"},
		{incident.Incident{Number: 9, Title: "Still going", Status: incident.Monitoring}, "Postmortem: #9 Still going (draft)"},
	} {
		d := &postmortem.Document{Incident: &tc.inc}
		if got := d.Title(); got != tc.want {
			t.Errorf("Title of %q = %q, want %q", tc.inc.Title, got, tc.want)
		}
	}
}
