package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// Alert groups waiting in triage each have one message in the triage
// channel, updated in place as their alerts arrive and resolve, with
// Declare and Dismiss buttons until someone decides.
const (
	actionAlertsDeclare = "alerts_declare"
	actionAlertsDismiss = "alerts_dismiss"
	actionAlertsAttach  = "alerts_attach"
	// triageBlockPrefix begins the block ID of a triage message's
	// controls, which ends with the group's key: the Attach to… select
	// has no value of its own to carry it.
	triageBlockPrefix = "alerts:"
	// maxAttachOptions is how many open incidents Attach to… offers
	// (Block Kit allows 100 options).
	maxAttachOptions   = 100
	alertsActionPrefix = "alerts_"
	// triagePostKey marks a triage message (with the group's key) so that
	// a message whose posting was interrupted is found, not posted twice.
	triagePostKey    = "triage"
	maxTriageAlerts  = 5
	triageRetryAfter = 30 * time.Second
	// triageClaimKey is the claim, in a store that several processes
	// share, of showing the triage channel's messages.
	triageClaimKey = "alert-triage"
	// triageClaimRetry is how soon a process that found the claim taken
	// asks again.
	triageClaimRetry = 250 * time.Millisecond
)

// alertTriage keeps the triage channel's messages in step with the
// recorded groups.
type alertTriage struct {
	api     slackAPI
	svc     *incident.Service
	channel string
	command string
	log     *slog.Logger
	nudge   chan struct{}
	// offered is the list of open incidents the messages of groups in
	// triage offer under Attach to…, as last shown ("" before the first
	// look): when incidents open, close or are renamed, the messages are
	// shown again, so that a new incident can be chosen.
	offered string
}

func newAlertTriage(api slackAPI, svc *incident.Service, channel, command string, log *slog.Logger) *alertTriage {
	return &alertTriage{api: api, svc: svc, channel: channel, command: command, log: log.With("in", "alert triage"), nudge: make(chan struct{}, 1)}
}

// poke asks for a look at the groups now.
func (t *alertTriage) poke() {
	select {
	case t.nudge <- struct{}{}:
	default:
	}
}

// run shows the groups behind in the triage channel when poked, and every
// poll (for changes made by another process), until ctx ends. Slack
// refusing one group's message holds up no other group; it is tried again
// after a while.
//
// With a store that several processes share, one process at a time shows
// the messages (see claimed): two replicas looking at a new group at once
// would otherwise both post its message. A process that finds the claim
// taken asks again every triageClaimRetry until it gets it, so that what
// it was poked for is shown by it or by the holder, whose look may have
// begun too early to see it: a poke waits at most for the holder's look
// to end, plus triageClaimRetry.
func (t *alertTriage) run(ctx context.Context, poll time.Duration) error {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	poked := true // the first look is for what happened while down
	for {
		var wake <-chan time.Time
		switch synced, err := t.claimed(ctx); {
		case err != nil && ctx.Err() == nil:
			t.log.Warn("triage messages not all shown; trying again later", "err", err)
			wake = time.After(triageRetryAfter)
		case !synced && poked:
			// Another process is looking, perhaps since before what
			// this one was poked for: look again once it is done.
			wake = time.After(triageClaimRetry)
		}
		poked = false
		select {
		case <-ctx.Done():
			return nil
		case <-t.nudge:
			poked = true
		case <-tick.C:
		case <-wake:
			poked = true
		}
	}
}

// claimed shows the groups behind while holding the store's claim on the
// triage channel, when the store is shared, and reports whether it did:
// false when another process holds the claim. Losing the claim midway
// (the database connection failed) stops the look.
func (t *alertTriage) claimed(ctx context.Context) (bool, error) {
	excl := t.svc.Exclusive()
	if excl == nil {
		return true, t.sync(ctx)
	}
	release, lost, ok, err := excl.TryExclusive(ctx, triageClaimKey)
	if err != nil || !ok {
		return false, err
	}
	defer release()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lost:
			cancel()
		case <-sctx.Done():
		}
	}()
	err = t.sync(sctx)
	select {
	case <-lost:
		return true, errors.New("lost the claim on the triage channel midway (the database connection failed)")
	default:
	}
	return true, err
}

func (t *alertTriage) sync(ctx context.Context) error {
	groups, err := t.svc.TriageBehind(ctx)
	if err != nil {
		return err
	}
	open, err := t.attachable(ctx)
	if err != nil {
		return err
	}
	if offered := offeredList(open); offered != t.offered {
		if t.offered != "" {
			// Every message in triage offers the old list.
			shown, err := t.svc.TriageShown(ctx)
			if err != nil {
				return err
			}
			groups = appendMissing(groups, shown)
		}
		t.offered = offered
	}
	var failed error
	for _, g := range groups {
		if err := t.show(ctx, g); err != nil {
			if ctx.Err() != nil {
				return err
			}
			failed = fmt.Errorf("group %s: %w", g.Key, err)
		}
	}
	return failed
}

// show posts or updates one group's message.
func (t *alertTriage) show(ctx context.Context, g incident.AlertGroup) error {
	alerts, err := t.svc.GroupAlerts(ctx, g.Key)
	if err != nil {
		return err
	}
	var open []*incident.Incident
	if g.State == incident.GroupTriage {
		if open, err = t.attachable(ctx); err != nil {
			return err
		}
	}
	text, blocks := triageMessage(g, alerts, open, t.command)
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...)}
	ts := g.TriageTS
	if ts == "" && g.TriagePosting {
		if ts, err = t.findPosted(ctx, g.Key); err != nil {
			return err
		}
	}
	switch {
	case ts == "" && g.State != incident.GroupTriage:
		// Decided before its message was ever shown: nothing to show.
		return t.svc.SaveTriage(ctx, g.Key, "", g.Version, false)
	case ts == "":
		if err := t.svc.SaveTriage(ctx, g.Key, "", g.TriageShown, true); err != nil {
			return err
		}
		md := slack.SlackMetadata{EventType: postMetadataType, EventPayload: map[string]any{"incident": "group:" + g.Key, "key": triagePostKey}}
		opts = append(opts, slack.MsgOptionMetadata(md))
		_, ts, err = t.api.PostMessageContext(ctx, t.channel, opts...)
		if slackError(err) == "not_in_channel" {
			if _, _, _, jerr := t.api.JoinConversationContext(ctx, t.channel); jerr != nil {
				return fmt.Errorf("join the triage channel %s: %w", t.channel, jerr)
			}
			_, ts, err = t.api.PostMessageContext(ctx, t.channel, opts...)
		}
		if err != nil {
			return fmt.Errorf("post to the triage channel: %w", err)
		}
	default:
		if _, _, _, err := t.api.UpdateMessageContext(ctx, t.channel, ts, opts...); err != nil {
			return fmt.Errorf("update the triage message: %w", err)
		}
	}
	return t.svc.SaveTriage(ctx, g.Key, ts, g.Version, false)
}

// attachable returns the open incidents Attach to… offers.
func (t *alertTriage) attachable(ctx context.Context) ([]*incident.Incident, error) {
	incs, err := t.svc.List(ctx, incident.ListFilter{OpenOnly: true, Limit: maxAttachOptions * 2})
	if err != nil {
		return nil, err
	}
	var open []*incident.Incident
	for _, inc := range incs {
		// A private incident's title is not shown in a channel everyone
		// may read.
		if !inc.Private && len(open) < maxAttachOptions {
			open = append(open, inc)
		}
	}
	return open, nil
}

// offeredList names what Attach to… shows for open: never "".
func offeredList(open []*incident.Incident) string {
	var b strings.Builder
	b.WriteString("open:")
	for _, inc := range open {
		fmt.Fprintf(&b, "%d %q;", inc.Number, inc.Title)
	}
	return b.String()
}

// appendMissing adds to groups those of more it lacks.
func appendMissing(groups, more []incident.AlertGroup) []incident.AlertGroup {
	have := map[string]bool{}
	for _, g := range groups {
		have[g.Key] = true
	}
	for _, g := range more {
		if !have[g.Key] {
			groups = append(groups, g)
		}
	}
	return groups
}

// findPosted looks for the group's message among the triage channel's
// latest hundred.
func (t *alertTriage) findPosted(ctx context.Context, key string) (string, error) {
	resp, err := t.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: t.channel, Limit: 100, IncludeAllMetadata: true})
	if err != nil {
		if slackError(err) == "not_in_channel" {
			return "", nil
		}
		return "", fmt.Errorf("read the triage channel: %w", err)
	}
	for _, m := range resp.Messages {
		md := m.Metadata
		if md.EventType == postMetadataType && md.EventPayload["incident"] == "group:"+key && md.EventPayload["key"] == triagePostKey {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// triageMessage renders a group's triage message: what fires, what was
// decided, and while nobody has, Declare, Dismiss and Attach to… (one of
// the open incidents).
func triageMessage(g incident.AlertGroup, alerts []incident.StoredAlert, open []*incident.Incident, command string) (string, []slack.Block) {
	firing, resolved := alertCounts(alerts)
	title, source := "Alerts", ""
	if sorted := sortedAlerts(alerts); len(sorted) > 0 {
		title, source = sorted[0].Title, sorted[0].Source
	}
	text := fmt.Sprintf("Alerts in triage: %s (%d firing, %d resolved)", truncate(title, 200), firing, resolved)
	head := fmt.Sprintf(":rotating_light: *%s* (%s), route _%s_: %d firing, %d resolved", escapeCut(title, 200), escapeCut(source, 40), escapeCut(g.Route, 100), firing, resolved)
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil)}
	if g.Capped && g.State == incident.GroupTriage {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("Held here: alerts had declared as many incidents as allowed that minute (`alerts.max_declares_per_minute`). Declare it if it needs one.")))
	}
	if g.Waiting && g.State == incident.GroupTriage {
		wait := fmt.Sprintf(":hourglass_flowing_sand: Waiting, as route _%s_ asks: it declares itself once it has %s", escapeCut(g.Route, 100), g.Hold.Describe())
		if !g.DeclareAt.IsZero() {
			wait += fmt.Sprintf(" (%s, if it is still firing)", slackDate(g.DeclareAt))
		}
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(wait+". Declare or dismiss it now if you know better.")))
	}
	shown := sortedAlerts(alerts)
	more := 0
	if len(shown) > maxTriageAlerts {
		more, shown = len(shown)-maxTriageAlerts, shown[:maxTriageAlerts]
	}
	for _, a := range shown {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(alertText(a)), nil, nil))
	}
	if more > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("%d more alerts in this group.", more))))
	}
	switch g.State {
	case incident.GroupIncident:
		by := "Sitrep"
		if g.DecidedBy != "" {
			by = mention(g.DecidedBy)
		}
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf(":white_check_mark: Part of incident #%d, on the word of %s. `%s alerts` in its channel lists these alerts.", g.IncidentNumber, by, command))))
	case incident.GroupDismissed:
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf(":heavy_minus_sign: Dismissed by %s. An alert of this group firing again brings it back here.", mention(g.DecidedBy)))))
	default:
		declare := slack.NewButtonBlockElement(actionAlertsDeclare, g.Key, slack.NewTextBlockObject(slack.PlainTextType, "Declare", false, false))
		declare.Style = slack.StylePrimary
		dismiss := slack.NewButtonBlockElement(actionAlertsDismiss, g.Key, slack.NewTextBlockObject(slack.PlainTextType, "Dismiss", false, false))
		elems := []slack.BlockElement{declare, dismiss}
		if len(open) > 0 {
			var opts []*slack.OptionBlockObject
			for _, inc := range open {
				label := truncate(fmt.Sprintf("#%d %s", inc.Number, plain(inc.Title)), 75)
				opts = append(opts, slack.NewOptionBlockObject(strconv.FormatInt(inc.Number, 10), slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil))
			}
			elems = append(elems, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, slack.NewTextBlockObject(slack.PlainTextType, "Attach to…", false, false), actionAlertsAttach, opts...))
		}
		blocks = append(blocks, slack.NewActionBlock(triageBlockPrefix+g.Key, elems...))
	}
	return text, blocks
}

// alertTriageAction is a click on a triage message's buttons.
func (b *Bot) alertTriageAction(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback, act *slack.BlockAction) {
	actor := cb.User.ID
	log = log.With("action", act.ActionID)
	var err error
	switch act.ActionID {
	case actionAlertsDeclare:
		var inc *incident.Incident
		if inc, err = b.svc.DeclareGroup(ctx, act.Value, actor); err == nil {
			requestIncident(ctx, inc.Number)
		}
	case actionAlertsDismiss:
		err = b.svc.DismissGroup(ctx, act.Value, actor)
	case actionAlertsAttach:
		n, perr := strconv.ParseInt(act.SelectedOption.Value, 10, 64)
		if perr != nil || !strings.HasPrefix(act.BlockID, triageBlockPrefix) {
			log.Warn("attach select with a bad value", "value", act.SelectedOption.Value)
			b.tellInteraction(ctx, log, cb, ":warning: That control is damaged; declare the alerts instead.")
			return
		}
		if _, err = b.svc.AttachGroup(ctx, strings.TrimPrefix(act.BlockID, triageBlockPrefix), n, actor); err == nil {
			requestIncident(ctx, n)
		}
	default:
		log.Warn("unknown triage action")
		b.tellInteraction(ctx, log, cb, ":warning: Sitrep does not know that control; it may be from an older version.")
		return
	}
	if b.triage != nil {
		b.triage.poke()
	}
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("triage action failed", "err", err)
		}
		b.tellInteraction(ctx, log, cb, ":warning: "+b.errorText(err))
	}
}

// AlertsRecorded tells the bot that alerts were recorded, so that the
// triage channel shows them now rather than at the next poll, and a group
// now waiting for its route's noise controls declares when its wait ends.
func (b *Bot) AlertsRecorded() {
	b.prompt.alertsRecorded()
	if b.triage != nil {
		b.triage.poke()
	}
}
