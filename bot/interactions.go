package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// Action IDs of the incident card's controls, and the callback ID of the
// message shortcut.
const (
	actionUpdate = "card_update"
	// actionTakeCommand is on the card of an incident nobody commands yet
	// (declared by Sitrep for an alert).
	actionTakeCommand = "card_take_command"
	actionStatus      = "card_status"
	actionSeverity    = "card_severity"
	actionRole        = "card_role:" // + role name
	// The card's lifecycle buttons do what the typed command does.
	actionResolve  = "card_resolve"
	actionReopen   = "card_reopen"
	actionClose    = "card_close"
	callbackAddMsg = "add_to_timeline"
)

// handleInteraction serves POST /slack/interactions: buttons and selects,
// modal submissions and shortcuts.
func (b *Bot) handleInteraction(w http.ResponseWriter, r *http.Request) {
	body, ok := b.readSigned(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		requestEnded(r.Context(), outcomeMalformed, "no payload field")
		http.Error(w, "expected a form with a payload field", http.StatusBadRequest)
		return
	}
	resp, err := b.interact(r.Context(), []byte(form.Get("payload")))
	answer(w, resp, err)
}

// interact handles one interaction payload, whatever transport brought it.
// It returns what to answer Slack with (nil for an empty 200), or an error
// for a payload that cannot be read.
func (b *Bot) interact(ctx context.Context, payload []byte) (any, error) {
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		requestEnded(ctx, outcomeMalformed, "unreadable interaction payload")
		return nil, fmt.Errorf("malformed interaction payload: %w", err)
	}
	log := b.logFor(ctx).With("user", cb.User.ID, "interaction", string(cb.Type))
	requestIs(ctx, string(cb.Type), cb.User.ID)
	if cb.Type != slack.InteractionTypeViewClosed {
		var picked string
		if acts := cb.ActionCallback.BlockActions; len(acts) > 0 {
			picked = acts[0].SelectedUser
		}
		ctx = b.withNames(ctx, "", cb.User.ID, picked)
	}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		b.blockActions(ctx, log, &cb)
		return nil, nil
	case slack.InteractionTypeViewSubmission:
		var submit func(context.Context, *slog.Logger, *slack.InteractionCallback) *slack.ViewSubmissionResponse
		switch cb.View.CallbackID {
		case callbackDeclare:
			submit = b.submitDeclare
		case callbackUpdate:
			submit = b.submitUpdate
		case callbackResolve:
			submit = b.submitResolve
		case callbackPostmortem:
			submit = b.submitPostmortem
		case callbackPublish:
			submit = b.submitPublish
		}
		if submit != nil {
			requestIs(ctx, "view_submission:"+cb.View.CallbackID, cb.User.ID)
			resp := submit(ctx, log, &cb)
			if resp == nil {
				return nil, nil // accepted: the form closes
			}
			if resp.ResponseAction == slack.RAErrors {
				// The form shows what to fix; a domain error has said
				// more already.
				noteRequest(ctx, func(r *request) {
					if r.outcome == outcomeOK {
						r.outcome = "invalid"
					}
				})
			}
			return resp, nil
		}
		// A form has no channel to answer in: say it in the form.
		log.Warn("unknown form", "view_callback_id", cb.View.CallbackID)
		return slack.NewUpdateViewSubmissionResponse(&slack.ModalViewRequest{
			Type:  slack.VTModal,
			Title: plainText("Sitrep"),
			Close: plainText("Close"),
			Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(mrkdwn(
				":warning: This form is from an older version of Sitrep and was not saved. Open it again, or use `"+b.opts.CommandName+" help`."), nil, nil)}},
		}), nil
	case slack.InteractionTypeMessageAction:
		if cb.CallbackID == callbackAddMsg {
			b.addMessageFromShortcut(ctx, log, &cb)
			return nil, nil
		}
	case slack.InteractionTypeViewClosed:
		return nil, nil
	}
	// Slack only sends what the manifest and Sitrep's own messages ask
	// for, so this is an older or foreign control. Say so rather than
	// leave the click unanswered.
	log.Warn("unknown interaction", "callback_id", cb.CallbackID, "view_callback_id", cb.View.CallbackID)
	b.tellInteraction(ctx, log, &cb, ":warning: Sitrep does not know that control; it may be from an older version. `"+b.opts.CommandName+" help` lists what works.")
	return nil, nil
}

// blockActions handles clicks and selections on the incident card.
func (b *Bot) blockActions(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) {
	if len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	act := cb.ActionCallback.BlockActions[0]
	requestIs(ctx, "block_actions:"+act.ActionID, cb.User.ID)
	if act.ActionID == actionHomeDeclare && cb.Container.Type == "view" {
		b.homeDeclare(ctx, log, cb) // on the Home tab: no incident yet
		return
	}
	if act.ActionID == actionPageAck {
		b.pageAck(ctx, log, cb, act) // paging.go: in a direct message
		return
	}
	if strings.HasPrefix(act.ActionID, alertsActionPrefix) {
		b.alertTriageAction(ctx, log, cb, act) // triage_alerts.go: no incident yet
		return
	}
	inc, err := b.clickedIncident(ctx, log, cb)
	if err == nil {
		requestIncident(ctx, inc.Number)
		err = b.mayAct(ctx, log, cb.User.ID, inc.Incident)
	}
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("card action: find its incident", "err", err)
		}
		b.tellInteraction(ctx, log, cb, ":warning: "+b.errorText(err))
		return
	}
	channel := inc.Chat.ChannelID
	log = log.With("incident", inc.Number, "action", act.ActionID)
	actor := cb.User.ID
	if inc.Status == incident.Closed {
		// A control left on an older message (a prompt, a checklist a
		// client has not refreshed): nothing on a closed incident changes,
		// so say what is still possible instead.
		requestEnded(ctx, incident.ECONFLICT, "closed")
		b.tellInteraction(ctx, log, cb, b.closedText(ctx, log, inc.Incident))
		return
	}
	switch {
	case act.ActionID == actionResolve, act.ActionID == actionReopen, act.ActionID == actionClose:
		b.cardCommand(ctx, log, cb, strings.TrimPrefix(act.ActionID, "card_"), channel)
		return
	case act.ActionID == actionUpdate:
		if !inc.Status.Open() {
			b.tellInteraction(ctx, log, cb, fmt.Sprintf(":warning: Incident #%d is %s; `%s reopen` it to post updates.", inc.Number, inc.Status, b.opts.CommandName))
			return
		}
		if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, b.updateForm(inc.Incident, b.formMeta(callbackUpdate, actor, channel, inc.Number, cb.ResponseURL))); err != nil {
			log.Error("open update form", "err", err)
			b.tellInteraction(ctx, log, cb, ":warning: Slack would not open the form ("+describeSlackError(err)+"). Try again, or use `"+b.opts.CommandName+" update <text>`.")
		}
		return
	case act.ActionID == actionPublicApprove, act.ActionID == actionPublicEdit:
		b.publicAction(ctx, log, cb, inc, act)
		return
	case act.ActionID == actionTakeCommand:
		_, err = b.svc.TakeCommand(ctx, inc.Number, actor)
	case act.ActionID == actionStatus:
		_, err = b.svc.SetStatus(ctx, inc.Number, actor, incident.Status(act.SelectedOption.Value))
	case act.ActionID == actionSeverity:
		_, err = b.svc.SetSeverity(ctx, inc.Number, actor, act.SelectedOption.Value)
	case strings.HasPrefix(act.ActionID, actionRole):
		_, err = b.svc.AssignRole(ctx, inc.Number, actor, strings.TrimPrefix(act.ActionID, actionRole), act.SelectedUser)
	case strings.HasPrefix(act.ActionID, actionAnswer):
		answer, _, _ := strings.Cut(strings.TrimPrefix(act.ActionID, actionAnswer), ":")
		_, err = b.svc.Answer(ctx, inc.Number, actor, act.Value, answer)
		if incident.ErrorCode(err) == incident.ECONFLICT && inc.Status != incident.Closed {
			return // a second click on the same answer: it stands
		}
	case strings.HasPrefix(act.ActionID, actionFollowUpDone):
		id, perr := strconv.Atoi(act.Value)
		if perr != nil {
			log.Warn("follow-up button with a bad value", "value", act.Value)
			b.tellInteraction(ctx, log, cb, ":warning: That button is damaged; use `"+b.opts.CommandName+" timeline` to see the follow-ups.")
			return
		}
		_, err = b.svc.CompleteFollowUp(ctx, inc.Number, actor, id)
	case strings.HasPrefix(act.ActionID, actionFollowUpIssue):
		id, perr := strconv.Atoi(act.Value)
		if perr != nil {
			log.Warn("create issue button with a bad value", "value", act.Value)
			b.tellInteraction(ctx, log, cb, ":warning: That button is damaged; use `"+b.opts.CommandName+" timeline` to see the follow-ups.")
			return
		}
		_, err = b.svc.ExportFollowUp(ctx, inc.Number, actor, id, b.opts.IssueTracker)
	case act.ActionID == actionPostmortem:
		// The prompt's button does what /incident postmortem does: the
		// review form, then the postmortem.
		sc := slashCommand{UserID: actor, ChannelID: channel, ResponseURL: cb.ResponseURL, TriggerID: cb.TriggerID}
		if rep := b.postmortemCommand(ctx, log, inc.Number, sc); rep.Text != "" {
			b.tellInteraction(ctx, log, cb, rep.Text)
		}
		return
	default:
		log.Warn("unknown card action")
		b.tellInteraction(ctx, log, cb, ":warning: Sitrep does not know that control; it may be from an older version. `"+b.opts.CommandName+" help` lists what works.")
		return
	}
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("card action failed", "err", err)
		}
		b.tellInteraction(ctx, log, cb, ":warning: "+b.errorText(err))
		if !strings.HasPrefix(act.ActionID, "card_") {
			return
		}
		// The card shows what the select was set to; put it back.
		n := inc.Number
		b.goAfterAck(ctx, func(ctx context.Context) {
			if err := b.deliv.resetCard(ctx, n); err != nil {
				log.Warn("could not reset the card's controls", "err", err)
			}
		})
		return
	}
	b.deliv.watch(inc.Number, slashCommand{UserID: actor, ChannelID: channel, ResponseURL: cb.ResponseURL})
}

// cardCommand does what a lifecycle button on the card stands for
// ("resolve", "reopen", "close") exactly as the typed command does it,
// under the same rules, and answers the person as the command would.
func (b *Bot) cardCommand(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback, subcommand, channel string) {
	sc := slashCommand{UserID: cb.User.ID, ChannelID: channel, Text: subcommand, ResponseURL: cb.ResponseURL, TriggerID: cb.TriggerID}
	rep, ok := b.runCommand(ctx, sc)
	requestIs(ctx, "block_actions:card_"+subcommand, cb.User.ID) // the command named itself
	if ok && (rep.Text != "" || len(rep.Blocks) > 0) {
		b.goAfterAck(ctx, func(ctx context.Context) { b.tell(ctx, log, sc, rep) })
	}
}

// closedText answers a control used on a closed incident: what closing
// means, where the postmortem is, and what people can do instead.
func (b *Bot) closedText(ctx context.Context, log *slog.Logger, inc *incident.Incident) string {
	text := fmt.Sprintf(":lock: Incident #%d is closed, so its record is final: it takes no more changes and cannot be reopened.", inc.Number)
	where, err := lastPostmortem(ctx, b.svc, inc)
	if err != nil {
		log.Warn("closed incident: find its postmortem", "err", err)
	}
	if !inc.PostmortemAt.IsZero() {
		text += " Its postmortem: " + postmortemRef(inc.Number, where) + "."
	}
	return text + fmt.Sprintf(" If the trouble is back, declare a new incident with `%s declare`; work still to do belongs in your tracker.", b.opts.CommandName)
}

// submitDeclare handles the declare form. Errors are shown in the form;
// nothing is recorded until the input is valid.
func (b *Bot) submitDeclare(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) *slack.ViewSubmissionResponse {
	meta, err := b.forms.open(cb.View.PrivateMetadata, callbackDeclare, cb.User.ID)
	if err != nil {
		log.Warn("refused: declare form with metadata Sitrep did not seal for it", "err", err)
		requestEnded(ctx, incident.EFORBIDDEN, "")
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockTitle: formSealRefusal})
	}
	d := formValues(cb.View.State.Values).declaration(cb.User.ID)
	if refusal, ok := b.declares.take(cb.User.ID); !ok {
		requestEnded(ctx, outcomeLimited, "")
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockTitle: refusal})
	}
	inc, err := b.svc.Declare(ctx, d)
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		b.declares.giveBack(cb.User.ID)
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("declare from form", "err", err)
		}
		return b.formErrors(ctx, err, declareFields, blockTitle)
	}
	requestIncident(ctx, inc.Number)
	log = log.With("incident", inc.Number)
	if meta.Channel == "" && meta.ResponseURL == "" {
		// Declared from the Home tab: there is no channel to answer in,
		// so the tab shows the new incident, with its channel once made.
		n, user := inc.Number, cb.User.ID
		b.goAfterAck(ctx, func(ctx context.Context) {
			if err := b.runner.Await(ctx, integrationName, n); err != nil {
				log.Warn("declared from the Home tab; Slack setup pending", "err", err)
			}
			b.publishHome(ctx, log, user)
		})
		return nil
	}
	b.afterDeclare(ctx, log, inc.Number, slashCommand{UserID: cb.User.ID, ChannelID: meta.Channel, ResponseURL: meta.ResponseURL})
	return nil
}

// submitUpdate handles the update form: a status change, if any, then the
// update itself.
func (b *Bot) submitUpdate(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) *slack.ViewSubmissionResponse {
	meta, err := b.forms.open(cb.View.PrivateMetadata, callbackUpdate, cb.User.ID)
	if err != nil || meta.Number == 0 {
		log.Warn("refused: update form with metadata Sitrep did not seal for it", "err", err)
		requestEnded(ctx, incident.EFORBIDDEN, "")
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockKnow: formSealRefusal})
	}
	log = log.With("incident", meta.Number)
	requestIncident(ctx, meta.Number)
	f := formValues(cb.View.State.Values)
	inc, err := b.svc.Get(ctx, meta.Number)
	var sh *shown
	if err == nil {
		sh, err = b.show(ctx, inc)
	}
	if err == nil && sh.Chat.ChannelID != meta.Channel {
		// Sealed by Sitrep, so not forged; but an update form is only
		// opened in its incident's channel, and what is not understood
		// is not acted on.
		log.Warn("refused: update form opened outside its incident's channel", "channel", meta.Channel)
		err = incident.Errorf(incident.EFORBIDDEN, formSealRefusal)
	}
	if err == nil {
		err = b.mayAct(ctx, log, cb.User.ID, inc)
	}
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		return b.formErrors(ctx, err, nil, blockKnow)
	}
	switch inc.Status {
	case incident.Closed:
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockStatus: fmt.Sprintf("Incident #%d was closed meanwhile, so its record is final and takes no more updates.", inc.Number)})
	case incident.Resolved:
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockStatus: fmt.Sprintf("Incident #%d was resolved meanwhile. Reopen it with \"%s reopen\" to post updates.", inc.Number, b.opts.CommandName)})
	}
	if strings.TrimSpace(f.text(blockKnow)) == "" {
		// Slack's client requires the input, but the request may come
		// from elsewhere: an update must say something.
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockKnow: "Say what we know so far, even if it is little."})
	}
	if st := incident.Status(f.option(blockStatus)); st != "" && st != inc.Status {
		if _, err := b.svc.SetStatus(ctx, inc.Number, cb.User.ID, st); err != nil {
			requestEnded(ctx, outcomeOf(err), "")
			return b.formErrors(ctx, err, nil, blockStatus)
		}
	}
	if _, err := b.svc.PostUpdateNext(ctx, inc.Number, cb.User.ID, f.updateText(), f.nextUpdate()); err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("update from form", "err", err)
		}
		return b.formErrors(ctx, err, map[string]string{"update": blockKnow, "next update": blockNext}, blockKnow)
	}
	b.deliv.watch(inc.Number, slashCommand{UserID: cb.User.ID, ChannelID: meta.Channel, ResponseURL: meta.ResponseURL})
	return b.publishAfterUpdate(ctx, inc, f, meta, cb.User.ID)
}

// addMessageFromShortcut puts the message a shortcut was used on onto its
// incident's timeline.
func (b *Bot) addMessageFromShortcut(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) {
	inc, err := b.svc.ByRef(ctx, integrationName, cb.Channel.ID)
	if incident.ErrorCode(err) == incident.ENOTFOUND {
		b.tellInteraction(ctx, log, cb, ":warning: This channel is not an incident channel. Use the shortcut on messages in an incident's channel.")
		return
	}
	if err == nil {
		requestIncident(ctx, inc.Number)
		err = b.mayAct(ctx, log, cb.User.ID, inc)
	}
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("shortcut: find incident", "err", err)
		}
		b.tellInteraction(ctx, log, cb, ":warning: "+b.errorText(err))
		return
	}
	ts := cb.MessageTs
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	channel := cb.Channel.ID // the incident's, as ByRef found
	sc := slashCommand{UserID: cb.User.ID, ChannelID: channel, ResponseURL: cb.ResponseURL}
	n := inc.Number
	log = log.With("incident", n)
	b.goAfterAck(ctx, func(ctx context.Context) {
		// The message is read from Slack, as for a reaction: the payload's
		// copy of it could say anything, in anyone's name.
		msg, err := b.fetchMessage(ctx, channel, ts)
		if err != nil {
			log.Warn("shortcut: fetch message", "ts", ts, "err", err)
			why := describeSlackError(err)
			if errors.Is(err, errMessageGone) {
				why = "it is not in this channel, or was deleted"
			}
			b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: Could not read that message (%s), so it is not on the timeline.", why)})
			return
		}
		text, _ := b.addMessage(ctx, log, n, cb.User.ID, channel, msg)
		b.tell(ctx, log, sc, reply{Text: text})
		b.deliv.watch(n, sc)
	})
}

// addMessage records a Slack message on the timeline and says how that
// went, for the person who asked; dup is true when it was there already.
func (b *Bot) addMessage(ctx context.Context, log *slog.Logger, number int64, actor, channel string, msg slack.Message) (text string, dup bool) {
	at, err := parseTS(msg.Timestamp)
	if err != nil {
		return ":warning: That message has no readable time, so it cannot go on the timeline.", false
	}
	link, err := b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: msg.Timestamp})
	if err != nil {
		log.Warn("no permalink for message; recording it without", "err", err)
	}
	author := msg.User
	if author == "" {
		author = msg.BotID
	}
	ctx = b.withNames(ctx, msg.Text, actor, msg.User)
	_, err = b.svc.AddMessage(ctx, number, actor, incident.Message{At: at, Author: author, Text: msg.Text, Link: link, Key: channel + "/" + msg.Timestamp})
	switch incident.ErrorCode(err) {
	case "":
		return fmt.Sprintf(":pushpin: Added to the timeline of incident #%d, at %s.", number, slackDate(at)), false
	case incident.ECONFLICT:
		if incident.ErrorField(err) == "key" {
			return fmt.Sprintf(":pushpin: That message is already on the timeline of incident #%d.", number), true
		}
	case incident.EINTERNAL:
		log.Error("add message to timeline", "err", err)
	}
	return ":warning: " + b.errorText(err), false
}

// parseTS reads a Slack message timestamp ("1700000000.000100").
func parseTS(ts string) (time.Time, error) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, fmt.Errorf("bad message timestamp %q", ts)
	}
	var us int64
	if frac != "" {
		frac = (frac + "000000")[:6]
		if us, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("bad message timestamp %q", ts)
		}
	}
	return time.Unix(s, us*1000).UTC(), nil
}

// tellInteraction answers the person behind an interaction, through its
// response_url when it has one.
func (b *Bot) tellInteraction(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback, text string) {
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	sc := slashCommand{UserID: cb.User.ID, ChannelID: channel, ResponseURL: cb.ResponseURL}
	b.goAfterAck(ctx, func(ctx context.Context) { b.tell(ctx, log, sc, reply{Text: text}) })
}

// tellPending tells people that their changes to incident number are
// recorded but not in Slack yet, and why.
func (b *Bot) tellPending(ctx context.Context, number int64, err error, to []slashCommand) {
	// The pass's own context may be nearly spent; the telling gets its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	text := fmt.Sprintf(":hourglass: Recorded on incident #%d, but posting it in Slack is pending: %s%s. %s",
		number, describeSlackError(err), needsAdmin(err), retryNote(err))
	for _, sc := range to {
		b.tell(ctx, b.log.With("incident", number), sc, reply{Text: text})
	}
}
