package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/clock"
	"github.com/sitrep-dev/sitrep/notify"
)

// pagesIntegration names the Slack paging integration in the store.
const pagesIntegration = "slack-pages"

// actionPageAck is the Acknowledge button of a page's direct message; its
// value is "<incident number>:<page id>".
const actionPageAck = "page_ack"

// PageMetrics is told of paging, when Options.Metrics has it.
type PageMetrics interface {
	// Page is told of each paging event recorded: page, escalated,
	// acknowledged, cancelled, exhausted.
	Page(event string)
	// Acknowledged is told how long a page waited for its
	// acknowledgement.
	Acknowledged(tta time.Duration)
}

// pageDelivery sends pages in Slack: a direct message with Acknowledge to
// each person a step pages, and a message in a channel a step names. It is
// an integration of the delivery engine of its own, apart from the
// incident channel's, so that a page goes out even while the channel is
// still being made, and its progress (which people of which step have their
// message) is its own: a step's messages are sent once each, resumed after
// a crash from the last saved.
type pageDelivery struct {
	api     slackAPI
	svc     *incident.Service
	log     *slog.Logger
	command string
	metrics Metrics
}

// pageProgress is pageDelivery's state: the Seq of the last page event
// finished, and who of the next has had their message.
type pageProgress struct {
	Seq  int64    `json:"seq"`
	Done []string `json:"done,omitempty"`
}

func (p *pageDelivery) Name() string { return pagesIntegration }

// Deliver implements notify.Integration.
func (p *pageDelivery) Deliver(ctx context.Context, inc *incident.Incident, events []incident.Event, d *incident.Delivery, save func() error) error {
	var st pageProgress
	if len(d.State) > 0 {
		if err := json.Unmarshal(d.State, &st); err != nil {
			return &finalError{fmt.Errorf("read paging progress: %w", err)}
		}
	}
	store := func() error {
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		d.State = b
		return save()
	}
	var channel string // the incident channel, read once it is needed
	for _, ev := range events {
		if ev.Seq <= st.Seq {
			continue
		}
		p.count(ev)
		if ev.Kind != incident.KindPage || !p.stillPaging(inc, ev) {
			continue
		}
		if channel == "" {
			sd, err := p.svc.Delivery(ctx, integrationName, inc.ID)
			if err != nil {
				return err
			}
			if sh, err := showing(inc, sd); err == nil {
				channel = sh.Chat.ChannelID
			}
		}
		firing, resolved, alerts, err := p.svc.IncidentAlertSummary(ctx, inc.Number, maxPageAlerts)
		if err != nil {
			return err
		}
		for _, user := range strings.Fields(ev.Data["users"]) {
			if slices.Contains(st.Done, user) {
				continue
			}
			text, blocks := pageMessage(inc, ev, user, channel, firing+resolved, alerts, p.command)
			err := p.dm(ctx, user, text, blocks)
			if err != nil && !isFinal(err) {
				return err
			}
			if err != nil {
				// Slack will never take this one (a deactivated account,
				// say): the commander hears of it once, and the page goes
				// on to the others and to the next steps rather than
				// waiting on it.
				p.log.Warn("a page could not reach someone", "incident", inc.Number, "user", user, "err", err)
				problem := fmt.Sprintf("The page could not reach %s in Slack: %s%s.", mention(user), describeSlackError(err), needsAdmin(err))
				if rerr := p.svc.RecordPageProblem(ctx, inc.Number, problem); rerr != nil {
					return rerr
				}
			}
			st.Done = append(st.Done, user)
			if err := store(); err != nil {
				return err
			}
		}
		if c := ev.Data["channel"]; c != "" && !slices.Contains(st.Done, "#"+c) {
			// A channel step has no one to press Acknowledge for it: the
			// message says who is paged and where to help.
			msg := fmt.Sprintf(":rotating_light: Paging this channel for an incident (%s): *%s*. %s", inc.Severity, displayTitle(inc), whereToJoin(channel, p.command))
			if _, _, err := p.api.PostMessageContext(ctx, c, slack.MsgOptionText(msg, false)); err != nil {
				if !isFinal(err) {
					return fmt.Errorf("page channel %s: %w", c, err)
				}
				problem := fmt.Sprintf("The page could not be posted in %s: %s%s.", channelLink(c), describeSlackError(err), needsAdmin(err))
				if rerr := p.svc.RecordPageProblem(ctx, inc.Number, problem); rerr != nil {
					return rerr
				}
			}
			st.Done = append(st.Done, "#"+c)
			if err := store(); err != nil {
				return err
			}
		}
		st.Seq, st.Done = ev.Seq, nil
		if err := store(); err != nil {
			return err
		}
	}
	return nil
}

// dm sends a page's direct message to user.
func (p *pageDelivery) dm(ctx context.Context, user, text string, blocks []slack.Block) error {
	dm, _, _, err := p.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
	if err != nil {
		return fmt.Errorf("open a direct message to page %s: %w", user, err)
	}
	if _, _, err := p.api.PostMessageContext(ctx, dm.ID, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)); err != nil {
		return fmt.Errorf("page %s: %w", user, err)
	}
	return nil
}

// count tells the metrics of a paging event, once: the progress saved
// after it keeps it from being counted again, but for the rare crash in
// between.
func (p *pageDelivery) count(ev incident.Event) {
	pm, ok := p.metrics.(PageMetrics)
	if !ok {
		return
	}
	switch ev.Kind {
	case incident.KindPage:
		if ev.Data["escalated"] == "true" {
			pm.Page("escalated")
		} else {
			pm.Page("page")
		}
	case incident.KindPageAck:
		pm.Page("acknowledged")
		if n, err := strconv.Atoi(ev.Data["tta"]); err == nil {
			pm.Acknowledged(time.Duration(n) * time.Second)
		}
	case incident.KindPageCancelled:
		pm.Page("cancelled")
	case incident.KindPageExhausted:
		pm.Page("exhausted")
	}
}

// stillPaging reports whether the page ev is a step of is still open: a
// step recorded just before someone acknowledged, or the incident was
// resolved, wakes nobody.
func (p *pageDelivery) stillPaging(inc *incident.Incident, ev incident.Event) bool {
	id, err := strconv.Atoi(ev.Data["page"])
	if err != nil || id < 1 || id > len(inc.Pages) {
		return false
	}
	return inc.Pages[id-1].State == incident.PageOpen
}

// Classify implements notify.Integration, as Slack's delivery does.
func (p *pageDelivery) Classify(err error) notify.Failure {
	var rl *slack.RateLimitedError
	switch {
	case errors.As(err, &rl) && rl.RetryAfter > 0:
		return notify.Failure{Wait: rl.RetryAfter}
	case isFinal(err):
		return notify.Failure{Final: true, Problem: "A page could not be sent in Slack: " + describeSlackError(err) + needsAdmin(err)}
	}
	return notify.Failure{}
}

// whereToJoin says where to find the incident.
func whereToJoin(channel, command string) string {
	if channel == "" {
		return fmt.Sprintf("Its channel is being made; `%s list` finds it.", command)
	}
	return "Join " + channelLink(channel) + "."
}

// pageMessage is a page's direct message to user: the incident's link,
// severity, title and alerts, why they are paged, the message of whoever
// paged, and Acknowledge.
// maxPageAlerts is how many of the incident's alerts a page shows.
const maxPageAlerts = 5

// pageMessage renders a page: shown are at most maxPageAlerts of the
// incident's total alerts.
func pageMessage(inc *incident.Incident, ev incident.Event, user, channel string, total int, shown []incident.StoredAlert, command string) (string, []slack.Block) {
	why := "You are on call."
	users := strings.Fields(ev.Data["users"])
	switch {
	case strings.HasPrefix(ev.Data["notify"], "schedule:") && len(users) > 1 && user != users[0]:
		// A provisional on-call is paged with their backup (seed 000).
		why = fmt.Sprintf("You are the backup of %s, who is on call as a provisional.", mention(users[0]))
	case ev.Actor != "":
		why = mention(ev.Actor) + " paged you."
	case strings.HasPrefix(ev.Data["notify"], "backup:"):
		why = "You are the backup on call."
	case ev.Data["escalated"] == "true":
		why = "Nobody has acknowledged yet, and you are next."
	}
	text := fmt.Sprintf(":rotating_light: Paged for %s (%s)", plainTitle(inc), inc.Severity)
	lines := []string{
		fmt.Sprintf(":rotating_light: *%s* · %s", displayTitle(inc), inc.Severity),
		why + " " + whereToJoin(channel, command),
	}
	if ev.Text != "" {
		lines = append(lines, "> "+defuse(truncate(ev.Text, 500)))
	}
	if ev.Data["late"] == "true" {
		lines = append(lines, ":hourglass: This page is late: Sitrep was down when it fell due.")
	}
	if len(shown) > 0 {
		var al []string
		for _, a := range shown[:min(len(shown), maxPageAlerts)] {
			al = append(al, fmt.Sprintf("• %s (%s, %s)", escapeCut(a.Title, 150), a.Source, a.Status))
		}
		if more := total - len(al); more > 0 {
			al = append(al, fmt.Sprintf("… and %d more", more))
		}
		lines = append(lines, "*Alerts*\n"+strings.Join(al, "\n"))
	}
	ack := slack.NewButtonBlockElement(actionPageAck, fmt.Sprintf("%d:%s", inc.Number, ev.Data["page"]), plainText("Acknowledge"))
	ack.Style = slack.StylePrimary
	return text, []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate(strings.Join(lines, "\n"), 3000)), nil, nil),
		slack.NewActionBlock("page", ack),
	}
}

// pageAck handles a click on Acknowledge in a page's direct message.
func (b *Bot) pageAck(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback, act *slack.BlockAction) {
	num, page, ok := strings.Cut(act.Value, ":")
	n, err1 := strconv.ParseInt(num, 10, 64)
	id, err2 := strconv.Atoi(page)
	if !ok || err1 != nil || err2 != nil {
		b.tellInteraction(ctx, log, cb, ":warning: That button names no page Sitrep knows.")
		return
	}
	requestIncident(ctx, n)
	inc, err := b.svc.AcknowledgePage(ctx, n, id, cb.User.ID)
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("acknowledge page", "err", err)
		}
		b.tellInteraction(ctx, log, cb, ":warning: "+b.errorText(err))
		return
	}
	tta, _ := incident.TimeToAcknowledge(inc)
	text := fmt.Sprintf(":white_check_mark: You acknowledged the page for *%s* (%s), %s after it began. Escalation has stopped.",
		displayTitle(inc), inc.Severity, incident.FormatDuration(tta))
	channel, ts := cb.Container.ChannelID, cb.Container.MessageTs
	b.goAfterAck(ctx, func(ctx context.Context) {
		// The button goes: the page's message says it was answered.
		if channel != "" && ts != "" {
			if _, _, _, err := b.api.UpdateMessageContext(ctx, channel, ts, slack.MsgOptionText(text, false),
				slack.MsgOptionBlocks(slack.NewSectionBlock(mrkdwn(text), nil, nil))); err == nil {
				return
			}
		}
		b.tell(ctx, log, slashCommand{UserID: cb.User.ID, ChannelID: channel, ResponseURL: cb.ResponseURL}, reply{Text: text})
	})
}

// pager sends escalation steps as they fall due. Whether a step is due is
// the domain's pure function of stored state and now (each page's Due,
// found through the incidents' NextPageAt); the pager records each due
// step as a timeline event, in the transaction that advances the page,
// and the paging integration delivers it. So a restart neither skips nor
// repeats a step, and a step that fell due while Sitrep was down is sent
// at once, marked late.
type pager struct {
	svc   *incident.Service
	clock clock.Clock
	log   *slog.Logger
	due   *dueWatch
}

func newPager(svc *incident.Service, clk clock.Clock, log *slog.Logger) *pager {
	p := &pager{svc: svc, clock: clk, log: log, due: newDueWatch()}
	// A change may bring a step forward (a page sent, an escalation
	// asked for), whoever made it.
	svc.SubscribeDue(func(_ int64, due incident.Due) { p.due.changed(due.Page, due.Known) })
	return p
}

// run sends due steps until ctx ends.
func (p *pager) run(ctx context.Context) error {
	return p.due.run(ctx, p.clock, p.log, "page pass failed; trying again", p.pass)
}

// pass sends the steps due now and returns when the next is due. Its cost
// is that of what is due: the store finds due pages through an index.
func (p *pager) pass(ctx context.Context) (time.Time, error) {
	for {
		now := p.clock.Now()
		due, next, err := p.svc.DuePages(ctx, now)
		if err != nil || len(due) == 0 {
			return next, err
		}
		sentAny := false
		var failed error
		for _, n := range due {
			sent, err := p.svc.SendPageSteps(ctx, n)
			if err != nil {
				p.log.Error("page step not recorded", "incident", n, "err", err)
				failed = err
				continue
			}
			if sent > 0 {
				sentAny = true
				p.log.Info("page step recorded", "incident", n, "steps", sent)
			}
		}
		if failed != nil {
			return time.Time{}, failed
		}
		if !sentAny {
			return now.Add(10 * time.Second), nil
		}
	}
}
