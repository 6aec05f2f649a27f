package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/notify"
)

// slashCommand is what Slack sends when someone types the command.
type slashCommand struct {
	UserID      string
	ChannelID   string
	Text        string
	ResponseURL string
	TriggerID   string
}

// handleCommand serves POST /slack/commands. The domain change is made
// before answering, so that what was typed is recorded once Slack shows it
// acknowledged; the Slack side effects run after the answer.
func (b *Bot) handleCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := b.readSigned(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		requestEnded(r.Context(), outcomeMalformed, "malformed form body")
		http.Error(w, "malformed form body", http.StatusBadRequest)
		return
	}
	sc := slashCommand{
		UserID:      form.Get("user_id"),
		ChannelID:   form.Get("channel_id"),
		Text:        form.Get("text"),
		ResponseURL: form.Get("response_url"),
		TriggerID:   form.Get("trigger_id"),
	}
	if sc.UserID == "" || sc.ChannelID == "" {
		requestEnded(r.Context(), outcomeMalformed, "no user_id or channel_id")
		http.Error(w, "user_id and channel_id are required", http.StatusBadRequest)
		return
	}
	rep, ok := b.runCommand(r.Context(), sc)
	if !ok {
		w.WriteHeader(http.StatusOK) // an empty answer: the channel message says it all
		return
	}
	answer(w, rep.payload(), nil)
}

// readSigned reads a request's body if Slack signed it, and answers the
// request itself (401, 413) if not.
func (b *Bot) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := b.verify.readVerified(r)
	if errors.Is(err, errBodyTooLarge) {
		requestEnded(r.Context(), outcomeTooLarge, fmt.Sprintf("body over %d bytes", maxBody))
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	if err != nil {
		requestEnded(r.Context(), outcomeRejected, err.Error()+" (from "+r.RemoteAddr+")")
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// runCommand does what the command asks. It returns the reply for the
// person who typed it, or ok=false when there is nothing to say at once.
func (b *Bot) runCommand(ctx context.Context, sc slashCommand) (rep reply, ok bool) {
	// A database that stops answering (a network that drops its packets)
	// would hold the command past Slack's 3 s, and the person would see
	// only Slack's timeout. Work after the answer has a context of its
	// own (goAfterAck).
	ctx, cancel := context.WithTimeout(ctx, commandBudget)
	defer cancel()
	cfg := b.svc.Config()
	cmd, err := Parse(sc.Text, cfg.SeverityNames())
	if err != nil {
		requestIs(ctx, "", sc.UserID)
		requestEnded(ctx, "invalid", "")
		return b.usageReply(err), true
	}
	requestIs(ctx, cmd.Name, sc.UserID)
	log := b.logFor(ctx).With("user", sc.UserID, "subcommand", cmd.Name)
	if cmd.Name != "help" && cmd.Name != "list" {
		ctx = b.withNames(ctx, cmd.Text, sc.UserID, cmd.User)
	}
	switch cmd.Name {
	case "help":
		return reply{Text: b.help}, true
	case "list":
		incs, err := b.openIncidentsFor(ctx, log, sc.UserID)
		if err != nil {
			return b.errorReply(ctx, log, cmd, err), true
		}
		return reply{Text: fmt.Sprintf("%d open incidents", len(incs)), Blocks: listBlocks(incs)}, true
	case "declare":
		rep := b.declare(ctx, log, sc, cmd)
		return rep, rep.Text != ""
	case "oncall":
		return b.onCallCommand(ctx, log, sc, cmd), true
	case "thirdparty":
		return b.thirdPartyReply(), true
	}

	n, err := b.incidentIn(ctx, log, sc.UserID, sc.ChannelID)
	if incident.ErrorCode(err) == incident.ENOTFOUND {
		requestEnded(ctx, outcomeOf(err), "not an incident channel")
		return reply{Text: fmt.Sprintf("`%s %s` works inside an incident's channel, and this channel is not one. Use `%s list` to find incident channels, or `%s declare` to start an incident.",
			b.opts.CommandName, cmd.Name, b.opts.CommandName, b.opts.CommandName)}, true
	}
	if err != nil {
		return b.errorReply(ctx, log, cmd, err), true
	}
	log = log.With("incident", n)
	requestIncident(ctx, n)
	switch cmd.Name {
	case "timeline":
		inc, events, err := b.svc.Timeline(ctx, n)
		if err != nil {
			return b.errorReply(ctx, log, cmd, err), true
		}
		return reply{Text: timelineText(inc, events), Blocks: timelineBlocks(inc, events, b.opts.CommandName)}, true
	case "alerts":
		inc, err := b.svc.Get(ctx, n)
		if err != nil {
			return b.errorReply(ctx, log, cmd, err), true
		}
		alerts, err := b.svc.IncidentAlerts(ctx, n)
		if err != nil {
			return b.errorReply(ctx, log, cmd, err), true
		}
		return alertsReply(inc, alerts), true
	case "status":
		_, err = b.svc.SetStatus(ctx, n, sc.UserID, incident.Status(cmd.Status))
	case "severity":
		_, err = b.svc.SetSeverity(ctx, n, sc.UserID, cmd.Severity)
	case "lead", "role":
		_, err = b.svc.AssignRole(ctx, n, sc.UserID, cmd.Role, cmd.User)
	case "note":
		_, err = b.svc.AddNote(ctx, n, sc.UserID, cmd.Text)
	case "update":
		if cmd.Text == "" {
			inc, err := b.svc.Get(ctx, n)
			if err != nil {
				return b.errorReply(ctx, log, cmd, err), true
			}
			switch inc.Status { // no form to fill in for nothing
			case incident.Closed:
				return reply{Text: b.closedText(ctx, log, inc)}, true
			case incident.Resolved:
				return reply{Text: fmt.Sprintf(":warning: Incident #%d is resolved; `%s reopen` it to post updates.", inc.Number, b.opts.CommandName)}, true
			}
			rep := b.openModal(ctx, log, sc, b.updateForm(inc, b.formMeta(callbackUpdate, sc.UserID, sc.ChannelID, n, sc.ResponseURL)), "update <text>")
			return rep, rep.Text != ""
		}
		_, err = b.svc.PostUpdate(ctx, n, sc.UserID, cmd.Text)
	case "publish":
		rep := b.publishCommand(ctx, log, n, sc)
		return rep, rep.Text != ""
	case "checklist":
		inc, err := b.svc.Get(ctx, n)
		if err != nil {
			return b.errorReply(ctx, log, cmd, err), true
		}
		if len(inc.Checklist) == 0 {
			return reply{Text: "This installation has no triage checklist. An admin can add one with `checklist:` in the config file."}, true
		}
		b.goAfterAck(ctx, func(ctx context.Context) {
			if err := b.deliv.repostChecklist(ctx, n); err != nil {
				log.Warn("post checklist", "err", err)
				b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: The checklist could not be posted: %s%s. Run `%s checklist` again to retry.", describeSlackError(err), needsAdmin(err), b.opts.CommandName)})
			}
		})
		return reply{}, false
	case "followup":
		_, err = b.svc.AddFollowUp(ctx, n, sc.UserID, cmd.Text, cmd.User)
	case "impact":
		_, err = b.svc.Record(ctx, n, sc.UserID, incident.Review{Edits: []incident.Edit{{Field: incident.FieldImpact, Text: cmd.Text}}})
	case "rootcause":
		_, err = b.svc.Record(ctx, n, sc.UserID, incident.Review{Edits: []incident.Edit{{Field: incident.FieldRootCause, Text: cmd.Text}}})
	case "learning":
		_, err = b.svc.Record(ctx, n, sc.UserID, incident.Review{Edits: []incident.Edit{{Field: incident.FieldLearnings, Text: cmd.Text, Add: true}}})
	case "resolve":
		if cmd.Text == "" {
			rep := b.resolveCommand(ctx, log, n, sc)
			return rep, rep.Text != ""
		}
		var inc *incident.Incident
		if inc, err = b.svc.Resolve(ctx, n, sc.UserID, cmd.Text); err == nil && inc.Public.PublicOpen() && b.publishRefusal(inc) == "" {
			// The status page still says it is going on: say how to end
			// it there, since nothing is public unless published.
			b.deliv.watch(n, sc)
			return reply{Text: fmt.Sprintf(":globe_with_meridians: Resolved. The status page still shows incident #%d as %s: `%s publish` posts the public resolution.", n, mustLatest(inc).Status, b.opts.CommandName)}, true
		}
	case "reopen":
		_, err = b.svc.Reopen(ctx, n, sc.UserID, cmd.Text)
	case "postmortem":
		rep := b.postmortemCommand(ctx, log, n, sc)
		return rep, rep.Text != ""
	case "close":
		_, err = b.svc.Close(ctx, n, sc.UserID)
	case "page":
		_, err = b.svc.PageBy(ctx, n, sc.UserID, incident.PageRequest{Target: cmd.Target, Message: cmd.Text})
	default:
		err = fmt.Errorf("subcommand %q has no handler", cmd.Name)
	}
	if err != nil {
		return b.errorReply(ctx, log, cmd, err), true
	}
	b.deliv.watch(n, sc)
	return reply{}, false
}

// openModal opens a form; if Slack will not, the reply says how to do the
// same by typing.
func (b *Bot) openModal(ctx context.Context, log *slog.Logger, sc slashCommand, view slack.ModalViewRequest, typed string) reply {
	if _, err := b.api.OpenViewContext(ctx, sc.TriggerID, view); err != nil {
		log.Error("open form", "callback_id", view.CallbackID, "err", err)
		requestEnded(ctx, outcomeSlack, "views.open: "+describeSlackError(err))
		return reply{Text: fmt.Sprintf(":warning: Slack would not open the form (%s). Type it instead: `%s %s`", describeSlackError(err), b.opts.CommandName, typed)}
	}
	return reply{}
}

// declare records the incident, answers at once, and reports on the channel
// once Slack has made it.
func (b *Bot) declare(ctx context.Context, log *slog.Logger, sc slashCommand, cmd Command) reply {
	if cmd.Title == "" {
		return b.openModal(ctx, log, sc, declareModal(b.svc.Config(), cmd.Severity, b.formMeta(callbackDeclare, sc.UserID, sc.ChannelID, 0, sc.ResponseURL)), "declare [severity] <title>")
	}
	if refusal, ok := b.declares.take(sc.UserID); !ok {
		requestEnded(ctx, outcomeLimited, "")
		return reply{Text: ":warning: " + refusal}
	}
	inc, err := b.svc.Declare(ctx, incident.Declaration{Title: cmd.Title, Severity: cmd.Severity, Actor: sc.UserID})
	if err != nil {
		b.declares.giveBack(sc.UserID) // only declarations count
		return b.errorReply(ctx, log, cmd, err)
	}
	requestIncident(ctx, inc.Number)
	b.afterDeclare(ctx, log.With("incident", inc.Number), inc.Number, sc)
	return reply{Text: fmt.Sprintf(":rotating_light: Declared incident #%d *%s* (%s). Opening its channel…", inc.Number, defuse(inc.Title), inc.Severity)}
}

// afterDeclare sets the new incident up in Slack after the answer, and
// tells the declarer where it is, or what is pending.
func (b *Bot) afterDeclare(ctx context.Context, log *slog.Logger, n int64, sc slashCommand) {
	b.goAfterAck(ctx, func(ctx context.Context) {
		err := b.runner.Await(ctx, integrationName, n)
		inc, gerr := b.svc.Get(ctx, n)
		var channel string
		if gerr == nil {
			var sh *shown
			if sh, gerr = b.show(ctx, inc); gerr == nil {
				channel = sh.Chat.ChannelID
			}
		}
		switch {
		case gerr != nil:
			log.Error("reload declared incident", "incident", n, "err", gerr)
		case errors.Is(err, notify.ErrStopped):
			b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":hourglass: Incident #%d is recorded. Sitrep is restarting; its Slack setup is finished when Sitrep is back.", n)})
		case channel != "" && err == nil:
			b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":white_check_mark: Incident #%d is open in %s. You are the commander; hand over with `%s lead @someone`.",
				n, channelLink(channel), b.opts.CommandName)})
		case channel != "":
			b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":hourglass: Incident #%d is open in %s, but some of its setup is pending: %s%s. %s",
				n, channelLink(channel), describeSlackError(err), needsAdmin(err), retryNote(err))})
		default:
			b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":hourglass: Incident #%d is recorded, but its channel is not made yet: %s%s. %s",
				n, describeSlackError(err), needsAdmin(err), retryNote(err))})
		}
	})
}

func retryNote(err error) string {
	if isFinal(err) {
		return fmt.Sprintf("Sitrep tries again every %s and with every change; the record itself is safe.", notify.FinalRetry)
	}
	return "Sitrep keeps retrying on its own; the record itself is safe."
}

// tell sends a late reply through the command's response_url; when that
// fails (it expires after 30 minutes and takes five posts), as an
// ephemeral message in the channel the command was typed in; and when
// that fails too, as a direct message.
//
// Slack shows an app's ephemeral message only in a conversation the app is
// in, and a command may be typed anywhere: /incident declare in a channel
// Sitrep was never invited to is the usual case. Sitrep could join such a
// channel first when it is public, but that puts it, with a join notice,
// in a channel nobody asked it into, and a private channel it cannot join
// at all. A direct message reaches the person wherever they typed; they
// read it in Sitrep's Messages tab, which manifest.yaml keeps read-only.
func (b *Bot) tell(ctx context.Context, log *slog.Logger, sc slashCommand, rep reply) {
	if sc.ResponseURL != "" {
		err := b.respond(ctx, sc.ResponseURL, rep)
		if err == nil {
			return
		}
		log.Warn("reply via response_url failed; trying an ephemeral message", "err", err)
	}
	if sc.ChannelID != "" {
		_, err := b.api.PostEphemeralContext(ctx, sc.ChannelID, sc.UserID, slack.MsgOptionText(rep.Text, false))
		if err == nil {
			return
		}
		log.Warn("ephemeral reply failed; trying a direct message", "user", sc.UserID, "err", err)
	}
	if err := b.directMessage(ctx, sc.UserID, rep.Text); err != nil {
		log.Error("could not reply to the user", "user", sc.UserID, "err", err)
	}
}

// directMessage posts text in the direct message between Sitrep and user.
func (b *Bot) directMessage(ctx context.Context, user, text string) error {
	dm, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
	if err != nil {
		return fmt.Errorf("open a direct message: %w", err)
	}
	if _, _, err := b.api.PostMessageContext(ctx, dm.ID, slack.MsgOptionText(text, false)); err != nil {
		return fmt.Errorf("post a direct message: %w", err)
	}
	return nil
}

// usageReply explains a command that could not be parsed.
func (b *Bot) usageReply(err error) reply {
	var ue *usageError
	if !errors.As(err, &ue) {
		return reply{Text: err.Error()}
	}
	if ue.suggest != "" {
		return reply{Text: fmt.Sprintf(":warning: %s Did you mean `%s %s`?\n`%s help` lists every subcommand.", ue.msg, b.opts.CommandName, ue.suggest, b.opts.CommandName)}
	}
	if sc, ok := lookup(ue.usage); ok {
		return reply{Text: fmt.Sprintf(":warning: %s\nUsage: `%s`", ue.msg, sc.usage(b.opts.CommandName))}
	}
	return reply{Text: ":warning: " + ue.msg + "\n\n" + b.help}
}

// errorReply turns a domain error into a reply. Only internal errors are
// logged as errors; the rest are the user's to fix.
func (b *Bot) errorReply(ctx context.Context, log *slog.Logger, cmd Command, err error) reply {
	requestEnded(ctx, outcomeOf(err), "")
	code := incident.ErrorCode(err)
	if code == incident.EINTERNAL {
		log.Error("command failed", "subcommand", cmd.Name, "err", err)
		if ctx.Err() != nil {
			return reply{Text: databaseSlowText}
		}
		if b.databaseDown(ctx) {
			return reply{Text: databaseDownText}
		}
		return reply{Text: ":x: " + b.errorText(err)}
	}
	msg := ":warning: " + b.errorText(err)
	if sc, ok := lookup(cmd.Name); ok && code == incident.EINVALID {
		msg += "\nUsage: `" + sc.usage(b.opts.CommandName) + "`"
	}
	return reply{Text: strings.TrimSpace(msg)}
}

// databaseDownText answers a command that failed because the database
// could not be reached. Any replica answers it at once, so Slack's 3 s are
// kept; the person knows what happened and what to do.
const databaseDownText = ":warning: Sitrep cannot reach its database right now, so this was not recorded; try again in a minute. If it keeps failing, tell whoever runs Sitrep."

// pingBudget bounds the question whether the database answers, asked
// after a command failed and before it is answered.
const pingBudget = 300 * time.Millisecond

// commandBudget is how long a command's work before its answer may take:
// Slack waits 3 s for the answer. It leaves room for Slack's lookups of
// names and membership, whose budgets add up to it, before the database
// is waited on for as long.
const commandBudget = namesBudget + membershipBudget

// databaseSlowText answers a command whose work ran out of commandBudget:
// in practice a database that does not answer. The change may have been
// committed just as time ran out, so the person is asked to look first.
const databaseSlowText = ":warning: Sitrep's database did not answer in time, so this may not have been recorded. If it does not show in the channel within a minute, try again; if it keeps failing, tell whoever runs Sitrep."

// databaseDown reports whether the database fails to answer now, asked
// after a command failed on Sitrep's side: a failure then is most likely
// that outage. The question is short, as the person waits for the answer.
func (b *Bot) databaseDown(ctx context.Context) bool {
	if b.opts.Ping == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pingBudget)
	defer cancel()
	return b.opts.Ping(ctx) != nil
}

// incidentIn returns the number of the incident whose channel channelID
// is, or an ENOTFOUND error; for a private incident, only if user is in
// its channel (mayAct), whatever the payload says of where they typed. An
// incident's channel and privacy never change, so they are kept: most
// commands need only the number, and reading the whole incident for it
// cost a fifth of a note's time.
func (b *Bot) incidentIn(ctx context.Context, log *slog.Logger, user, channelID string) (int64, error) {
	var inc *incident.Incident
	ci, ok := b.channels.Load(channelID)
	if !ok {
		var err error
		if inc, err = b.svc.ByRef(ctx, integrationName, channelID); err != nil {
			return 0, err
		}
		ci = channelIncident{number: inc.Number, private: inc.Private}
		b.channels.Store(channelID, ci)
	}
	c := ci.(channelIncident)
	if !c.private {
		return c.number, nil
	}
	if inc == nil {
		var err error
		if inc, err = b.svc.Get(ctx, c.number); err != nil {
			return 0, err
		}
	}
	return c.number, b.mayAct(ctx, log, user, inc)
}

// channelIncident is what incidentIn keeps of an incident channel.
type channelIncident struct {
	number  int64
	private bool
}
