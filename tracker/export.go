package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
	"github.com/sitrep-dev/sitrep/postmortem"
)

// ExportName is Export's name in the delivery engine and the store.
const ExportName = "tracker"

// People tells who a Slack user is: a name for the issue's text, an email
// to find them by in a tracker. Both are "" when Slack cannot say.
type People interface {
	Person(ctx context.Context, userID string) (name, email string)
}

// Options are Export's settings.
type Options struct {
	// Trackers are the configured trackers, by name.
	Trackers map[string]Tracker
	// CloseOnDone names the trackers whose issues are closed when the
	// follow-up is marked done in Slack; the others get a comment.
	CloseOnDone map[string]bool
	// Users maps Slack user IDs to each tracker's own user names (a
	// GitHub login, a Jira account ID), by tracker, for assigning owners.
	Users map[string]map[string]string
	// People names the people of a follow-up; nil leaves their IDs.
	People People
	// Link is the link back to the incident (its Slack channel); nil or
	// "" for none.
	Link func(ctx context.Context, inc *incident.Incident) string
}

// Export is the notify.Integration that makes follow-ups' issues and tells
// the issues of what happens to the follow-ups in Slack.
type Export struct {
	svc  *incident.Service
	opts Options
	log  *slog.Logger
}

// NewExport returns the integration.
func NewExport(svc *incident.Service, opts Options, log *slog.Logger) *Export {
	return &Export{svc: svc, opts: opts, log: log.With("integration", ExportName)}
}

// Name implements notify.Integration.
func (e *Export) Name() string { return ExportName }

// state is Export's own progress with an incident (Delivery.State).
type state struct {
	// Told are the Seqs of the follow-up events whose issue has been told
	// of them (a comment, or closed).
	Told []int64 `json:"told,omitempty"`
}

// Deliver implements notify.Integration: it makes the issues asked for,
// finding first any it made before a crash or a lost answer, and tells the
// issues of follow-ups marked done in Slack.
func (e *Export) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	var st state
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, &st); err != nil {
			return fmt.Errorf("read tracker state: %w", err)
		}
	}
	// Every issue is filed under its key so that its webhook finds the
	// incident; one recorded just before a crash is filed now.
	refs := len(d.Refs)
	for _, f := range inc.FollowUps {
		if f.Tracked() && !slices.Contains(d.Refs, Ref(f.Issue.Tracker, f.Issue.Key)) {
			d.Refs = append(d.Refs, Ref(f.Issue.Tracker, f.Issue.Key))
		}
	}
	if len(d.Refs) != refs {
		if err := save(); err != nil {
			return err
		}
	}
	for _, f := range inc.FollowUps {
		if f.ExportTo == "" || f.Tracked() {
			continue
		}
		if err := e.export(ctx, inc, f, d, save); err != nil {
			return err
		}
	}
	for _, ev := range events {
		if ev.Kind != incident.KindFollowUpDone || ev.Actor == "" || slices.Contains(st.Told, ev.Seq) {
			continue // done in the tracker itself, or told already
		}
		id, _ := strconv.Atoi(ev.Data["id"])
		i := slices.IndexFunc(inc.FollowUps, func(f incident.FollowUp) bool { return f.ID == id })
		if i < 0 || !inc.FollowUps[i].Tracked() {
			continue
		}
		if err := e.tellDone(ctx, inc, inc.FollowUps[i], ev); err != nil {
			if te, ok := AsError(err); ok && te.Final {
				// Nothing a retry mends: said in the log, not retried
				// forever over a comment.
				e.log.Warn("could not tell the issue its follow-up is done", "incident", inc.Number, "issue", inc.FollowUps[i].Issue.Key, "err", err)
			} else {
				return err
			}
		}
		// Told at least once: a crash between the comment and this save
		// comments twice, which is the lesser harm.
		st.Told = append(st.Told, ev.Seq)
		b, _ := json.Marshal(st)
		d.State = b
		if err := save(); err != nil {
			return err
		}
	}
	return nil
}

// export makes follow-up f's issue, or finds the one made before.
func (e *Export) export(ctx context.Context, inc *incident.Incident, f incident.FollowUp, d *incident.Delivery, save func() error) error {
	t := e.opts.Trackers[f.ExportTo]
	if t == nil {
		return e.svc.RefuseExport(ctx, inc.Number, f.ID, f.ExportTo, fmt.Sprintf("%s is not configured any more; add it under trackers in the config file, restart Sitrep, and press Create issue again.", incident.TrackerTitle(f.ExportTo)))
	}
	marker := Marker(inc.ID, f.ID)
	// The issue cannot be older than its follow-up; a minute's slack
	// covers clocks that disagree.
	ref, found, err := t.Find(ctx, marker, f.CreatedAt.Add(-time.Minute))
	if err == nil && !found {
		var is Issue
		is, err = e.issue(ctx, inc, f, t.Name())
		if err == nil {
			ref, err = t.Create(ctx, is)
		}
	}
	if te, ok := AsError(err); ok && te.Final {
		e.log.Warn("tracker refused to make an issue", "incident", inc.Number, "followup", f.ID, "err", err)
		return e.svc.RefuseExport(ctx, inc.Number, f.ID, f.ExportTo, te.Problem)
	}
	if err != nil {
		return err
	}
	if found {
		e.log.Info("found the issue made before", "incident", inc.Number, "followup", f.ID, "issue", ref.Key)
	}
	d.Refs = append(d.Refs, Ref(ref.Tracker, ref.Key))
	if err := save(); err != nil {
		return err
	}
	_, err = e.svc.LinkIssue(ctx, inc.Number, f.ID, ref)
	return err
}

// tellDone comments on the issue of a follow-up marked done in Slack, and
// closes it if so configured.
func (e *Export) tellDone(ctx context.Context, inc *incident.Incident, f incident.FollowUp, ev incident.Event) error {
	t := e.opts.Trackers[f.Issue.Tracker]
	if t == nil {
		return nil
	}
	who, _ := e.person(ctx, ev.Actor)
	text := fmt.Sprintf("Marked done in Slack by %s (incident #%d, follow-up %d).", who, inc.Number, f.ID)
	if err := t.Comment(ctx, f.Issue, text); err != nil {
		return err
	}
	if e.opts.CloseOnDone[t.Name()] {
		return t.Close(ctx, f.Issue)
	}
	return nil
}

func (e *Export) person(ctx context.Context, id string) (name, email string) {
	if id == "" {
		return "", ""
	}
	if e.opts.People != nil {
		name, email = e.opts.People.Person(ctx, id)
	}
	if name == "" {
		name = id
	}
	return name, email
}

// maxTitle keeps titles inside every tracker's limit (GitHub 256, Jira
// 255, Linear 255) with room for the prefix.
const maxTitle = 200

// issue writes the issue for follow-up f: a title from its first line, a
// body with the whole follow-up converted from Slack's markup to Markdown,
// where it comes from, and the marker.
func (e *Export) issue(ctx context.Context, inc *incident.Incident, f incident.FollowUp, tracker string) (Issue, error) {
	names := map[string]string{}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		n, _ := e.person(ctx, id)
		names[id] = n
		return n
	}
	link := ""
	if e.opts.Link != nil {
		link = e.opts.Link(ctx, inc)
	}
	pm, err := e.postmortemLink(ctx, inc)
	if err != nil {
		return Issue{}, err
	}
	marker := Marker(inc.ID, f.ID)
	// The same words twice: as Markdown, and as plain text with links
	// written out.
	var md, plain strings.Builder
	md.WriteString(postmortem.Markdown(f.Text, name))
	plain.WriteString(Plain(f.Text, name))
	md.WriteString("\n\n---\n\n")
	plain.WriteString("\n\n---\n\n")
	where := fmt.Sprintf("incident #%d (%s)", inc.Number, Plain(inc.Title, name))
	if link != "" {
		fmt.Fprintf(&md, "Follow-up %d of [%s](%s)", f.ID, strings.NewReplacer("[", "\\[", "]", "\\]").Replace(where), link)
		fmt.Fprintf(&plain, "Follow-up %d of %s: %s", f.ID, where, link)
	} else {
		fmt.Fprintf(&md, "Follow-up %d of %s", f.ID, where)
		fmt.Fprintf(&plain, "Follow-up %d of %s", f.ID, where)
	}
	for _, b := range []*strings.Builder{&md, &plain} {
		fmt.Fprintf(b, ", recorded by %s.", name(f.CreatedBy))
		if f.Owner != "" {
			fmt.Fprintf(b, " Owner: %s.", name(f.Owner))
		}
		b.WriteString("\n")
		if pm != "" {
			fmt.Fprintf(b, "\nPostmortem: %s\n", pm)
		}
		fmt.Fprintf(b, "\n%s (Sitrep finds this issue by this line; please keep it.)\n", marker)
	}
	is := Issue{
		Title:  titleOf(inc.Number, Plain(f.Text, name)),
		Body:   md.String(),
		Text:   plain.String(),
		Marker: marker,
	}
	if f.Owner != "" {
		is.Assignee = e.opts.Users[tracker][f.Owner]
		_, is.OwnerEmail = e.person(ctx, f.Owner)
	}
	return is, nil
}

// postmortemLink is where the incident's postmortem was last published,
// if it was.
func (e *Export) postmortemLink(ctx context.Context, inc *incident.Incident) (string, error) {
	if inc.PostmortemAt.IsZero() {
		return "", nil
	}
	evs, err := e.svc.Events(ctx, inc.ID, 0)
	if err != nil {
		return "", err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == incident.KindPostmortem && evs[i].Source != "" {
			return evs[i].Source, nil
		}
	}
	return "", nil
}

// titleOf is an issue's title: the follow-up's first line, shortened.
func titleOf(number int64, text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	line = strings.Join(strings.Fields(line), " ")
	if len(line) > maxTitle {
		cut := maxTitle
		for cut > 0 && (line[cut]&0xC0) == 0x80 {
			cut--
		}
		line = strings.TrimSpace(line[:cut]) + "…"
	}
	return fmt.Sprintf("Follow-up from incident #%d: %s", number, line)
}

// Classify implements notify.Integration. Refusals of an issue are
// recorded on the follow-up by Deliver; what reaches here is passing
// trouble, a rate limit, or a refusal of something else.
func (e *Export) Classify(err error) notify.Failure {
	if te, ok := AsError(err); ok {
		return notify.Failure{Final: te.Final, Problem: te.Problem, Wait: te.Wait}
	}
	return notify.Failure{}
}
