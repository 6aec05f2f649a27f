package postmortem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"text/template"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slacktext"
)

// Reader reads an incident and its recorded timeline; *incident.Service
// is one.
type Reader interface {
	Timeline(ctx context.Context, n int64) (*incident.Incident, []incident.Event, error)
}

// Options say how Write writes a postmortem.
type Options struct {
	// Template is the postmortem template, parsed with Funcs
	// (templates.Postmortem returns it with any override applied).
	Template *template.Template
	// TimeZone is the zone times are shown in; nil is UTC.
	TimeZone *time.Location
	// Name resolves a user ID to a display name; nil, or "" for a user,
	// shows the ID (or the label of a <@U…|label> mention).
	Name func(userID string) string
}

// Document is an incident's postmortem and what it was written from.
type Document struct {
	Incident *incident.Incident
	Entries  int // how many timeline entries it was written from
	View     View
	Markdown []byte
}

// TemplateError is the template failing on an incident: an override that
// asks for a field the View does not have, say. Reading the incident
// failing is any other error.
type TemplateError struct{ Err error }

func (e *TemplateError) Error() string { return e.Err.Error() }
func (e *TemplateError) Unwrap() error { return e.Err }

// Write reads incident n from r and renders its postmortem as Markdown.
// It is the one pipeline behind the Slack command and the offline
// `sitrep postmortem`; an error reading the incident keeps its domain code.
func Write(ctx context.Context, r Reader, n int64, o Options) (*Document, error) {
	if o.Template == nil {
		return nil, errors.New("postmortem: no template")
	}
	inc, events, err := r.Timeline(ctx, n)
	if err != nil {
		return nil, err
	}
	d := &Document{Incident: inc, Entries: len(events), View: Build(inc, events, o.TimeZone, o.Name)}
	if ar, ok := r.(AlertReader); ok {
		alerts, err := ar.IncidentAlerts(ctx, n)
		if err != nil {
			return nil, err
		}
		d.View.Alerts = AlertRows(alerts, o.TimeZone)
	}
	var md bytes.Buffer
	if err := Render(&md, o.Template, d.View); err != nil {
		return nil, &TemplateError{err}
	}
	d.Markdown = md.Bytes()
	return d, nil
}

// Title is the plain-text title of the postmortem: "Postmortem: #12 Checkout
// failing", marked as a drill when it is one.
func (d *Document) Title() string {
	t := fmt.Sprintf("Postmortem: #%d %s", d.Incident.Number, slacktext.Unescape(strings.Join(strings.Fields(d.Incident.Title), " ")))
	if incident.IsDraft(d.Incident) {
		t += " (draft)"
	}
	if d.Incident.Drill {
		t = "[DRILL] " + t
	}
	return t
}

// HTMLPage returns the postmortem as a standalone HTML5 page.
func (d *Document) HTMLPage() ([]byte, error) {
	frag, err := HTML(d.Markdown)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(frag) + len(stylesheet) + 256)
	b.WriteString("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + html.EscapeString(d.Title()) + "</title>\n")
	b.WriteString("<style>\n" + stylesheet + "</style>\n</head>\n<body>\n")
	b.Write(frag)
	if len(frag) > 0 && frag[len(frag)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes(), nil
}
