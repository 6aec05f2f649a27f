package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
)

// The customer-success brief (seed 000: customer success tells affected
// users). When an incident customers can see (something was published to
// the status page) is at or above the configured severity, a brief goes to
// the customer-success channel: what customers see, the impact, what
// mitigates it, when the next update is due. It is one message per
// incident, edited in place with each change, so the channel reads as the
// current state of every customer-visible incident.

// csIntegration is the brief's name in the store, logs and metrics.
const csIntegration = "customer_success"

// csMetadataType tags the briefs, so an interrupted post is found, not
// repeated.
const csMetadataType = "sitrep_cs_brief"

// csDelivery posts and edits the briefs through the delivery engine.
type csDelivery struct {
	api     slackAPI
	svc     *incident.Service
	slack   *slackDelivery // classifies Slack's failures the same way
	channel string
	at      string // the least severe severity briefed
	command string
}

// csState is the brief's progress with one incident.
type csState struct {
	TS      string `json:"ts,omitempty"`
	Shown   uint64 `json:"shown,omitempty"` // hash of the text last posted
	Posting bool   `json:"posting,omitempty"`
}

func (c *csDelivery) Name() string { return csIntegration }

func (c *csDelivery) Classify(err error) notify.Failure { return c.slack.Classify(err) }

// briefed reports whether inc gets a brief: customers can see it, and it
// is at least as severe as the configured severity.
func (c *csDelivery) briefed(inc *incident.Incident) bool {
	if inc.Private || inc.Drill || !inc.Public.Published() {
		return false
	}
	names := c.svc.Config().SeverityNames()
	at := slices.Index(names, c.at)
	return at < 0 || slices.Index(names, inc.Severity) <= at
}

// Deliver posts the incident's brief, or edits it to what is true now.
func (c *csDelivery) Deliver(ctx context.Context, inc *incident.Incident, _ []incident.Event, d *incident.Delivery, save func() error) error {
	var st csState
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, &st); err != nil {
			return fmt.Errorf("customer brief: read saved progress: %w", err)
		}
	}
	if st.TS == "" && !c.briefed(inc) {
		return nil // once posted, a brief follows the incident to its end
	}
	keep := func() error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		d.State = b
		return save()
	}
	text := csBrief(inc, c.svc.Config(), c.command)
	h := fnv.New64a()
	h.Write([]byte(text))
	sum := h.Sum64()
	if st.TS == "" && st.Posting {
		ts, err := c.findPosted(ctx, inc.ID)
		if err != nil {
			return err
		}
		st.TS, st.Posting = ts, false
		if err := keep(); err != nil {
			return err
		}
	}
	if st.TS == "" {
		st.Posting = true
		if err := keep(); err != nil {
			return err
		}
		md := slack.SlackMetadata{EventType: csMetadataType, EventPayload: map[string]any{"incident": inc.ID}}
		opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionMetadata(md)}
		_, ts, err := c.api.PostMessageContext(ctx, c.channel, opts...)
		if slackError(err) == "not_in_channel" {
			if _, _, _, jerr := c.api.JoinConversationContext(ctx, c.channel); jerr != nil {
				return fmt.Errorf("join the customer-success channel: %w", jerr)
			}
			_, ts, err = c.api.PostMessageContext(ctx, c.channel, opts...)
		}
		if err != nil {
			return fmt.Errorf("post the customer brief: %w", err)
		}
		st.TS, st.Posting, st.Shown = ts, false, sum
		return keep()
	}
	if st.Shown == sum {
		return nil
	}
	if _, _, _, err := c.api.UpdateMessageContext(ctx, c.channel, st.TS, slack.MsgOptionText(text, false)); err != nil {
		return fmt.Errorf("update the customer brief: %w", err)
	}
	st.Shown = sum
	return keep()
}

// findPosted finds a brief whose posting was interrupted.
func (c *csDelivery) findPosted(ctx context.Context, incidentID string) (string, error) {
	resp, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: c.channel, Limit: 100, IncludeAllMetadata: true})
	if err != nil {
		if isFinal(err) {
			return "", nil // unreadable: posting will say why
		}
		return "", fmt.Errorf("read the customer-success channel: %w", err)
	}
	for _, m := range resp.Messages {
		if m.Metadata.EventType == csMetadataType && m.Metadata.EventPayload["incident"] == incidentID {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// csBrief is the brief's text: internal (it names the incident channel
// and people), for the people who talk to customers.
func csBrief(inc *incident.Incident, cfg incident.Config, command string) string {
	last, _ := inc.Public.Latest()
	head := fmt.Sprintf(":handshake: *Customer brief · incident #%d* (%s, %s)", inc.Number, inc.Severity, inc.Status)
	if inc.Status == incident.Resolved || inc.Status == incident.Closed {
		head = fmt.Sprintf(":white_check_mark: *Customer brief · incident #%d* (%s, %s %s)", inc.Number, inc.Severity, inc.Status, slackDate(inc.ResolvedAt))
	}
	public := last.Status.Label()
	if cfg.Public.URL != "" {
		public = fmt.Sprintf("<%s/incidents/%s|%s>", cfg.Public.URL, inc.Public.ID, public)
	}
	s := head + fmt.Sprintf("\n*Customers see:* %s · *%s*: %s", public, fromPlain(last.Title), fromPlain(last.Message))
	if len(last.Components) > 0 {
		var parts []string
		for _, c := range publicComponents(inc.Public) {
			parts = append(parts, c.Name+": "+c.Status.Label())
		}
		s += "\n*Affected:* " + fromPlain(strings.Join(parts, ", "))
	}
	if inc.Impact != "" {
		s += "\n*Impact:* " + defuse(inc.Impact)
	}
	workaround := "none known yet"
	if inc.Mitigation != "" {
		workaround = defuse(inc.Mitigation)
	}
	s += "\n*Workaround:* " + workaround
	if at, ok := cfg.UpdateDue(inc); ok && inc.Status.Open() {
		s += "\n*Next update:* " + slackDate(at)
	}
	if cs := inc.Roles[incident.CustomerSuccessRole]; cs != "" {
		s += "\n*Customer success lead:* " + mention(cs)
	}
	return truncate(s+fmt.Sprintf("\nUpdated with every public update; questions go to the incident's channel (`%s` there).", command), maxSectionText)
}
