package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// Publishing to the public status page. Nothing becomes public but through
// the publish form: /incident publish, the update form's checkbox, the
// resolve form's public resolution, and a draft's Edit all open it,
// prefilled, so a person reads every word customers will.

const (
	callbackPublish = "publish"

	blockPubTitle     = "pub_title"
	blockPubStatus    = "pub_status"
	blockPubMessage   = "pub_message"
	blockPubComponent = "pub_c:" // + the component's index in the configuration
	blockPubAlso      = "pub_also"

	// The draft message's buttons; their value is the draft's time, so
	// that a click approves the words it was shown and no newer ones.
	actionPublicApprove = "public_approve"
	actionPublicEdit    = "public_edit"

	// maxPublicComponents bounds the components the form lists, within a
	// modal's 100 blocks.
	maxPublicComponents = 90
)

// publishDefaults is what the publish form starts from: the draft awaiting
// approval, else what the public sees now (its message left blank, to be
// written anew), else the incident as Sitrep knows it, with the components
// its affected services map to marked as a partial outage.
func publishDefaults(inc *incident.Incident, cfg incident.PublicConfig) incident.Publication {
	if d := inc.Public.Draft; d != nil {
		return incident.Publication{Title: d.Title, Status: d.Status, Components: d.Components, Message: d.Message}
	}
	if last, ok := inc.Public.Latest(); ok {
		p := incident.Publication{Title: last.Title, Status: last.Status, Components: publicComponents(inc.Public)}
		switch {
		case !inc.Status.Open():
			p.Status, p.Message = incident.PublicResolved, "This incident has been resolved."
		case last.Status == incident.PublicResolved:
			p.Status = incident.PublicInvestigating // published again: it is back
		}
		return p
	}
	p := incident.Publication{Title: plain(inc.Title), Status: incident.PublicInvestigating}
	switch inc.Status {
	case incident.Identified:
		p.Status = incident.PublicIdentified
	case incident.Monitoring:
		p.Status = incident.PublicMonitoring
	}
	for _, c := range cfg.ComponentsFor(inc.Services) {
		p.Components = append(p.Components, incident.ComponentImpact{Name: c, Status: incident.PartialOutage})
	}
	return p
}

// publicComponents is each component's latest published status.
func publicComponents(p incident.PublicPage) []incident.ComponentImpact {
	var out []incident.ComponentImpact
	for _, u := range p.Updates {
		for _, c := range u.Components {
			found := false
			for i := range out {
				if out[i].Name == c.Name {
					out[i].Status, found = c.Status, true
				}
			}
			if !found {
				out = append(out, c)
			}
		}
	}
	return out
}

// publishModal is the publish form, filled in with p.
func publishModal(inc *incident.Incident, cfg incident.PublicConfig, p incident.Publication, meta modalMeta) slack.ModalViewRequest {
	var statusOpts []*slack.OptionBlockObject
	for _, s := range incident.PublicStatuses {
		statusOpts = append(statusOpts, slack.NewOptionBlockObject(string(s), plainText(s.Label()), nil))
	}
	status := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Status"), blockPubStatus, statusOpts...)
	status.InitialOption = findOption(statusOpts, string(p.Status))
	title := textInput(blockPubTitle, "Public title", "Elevated error rates on checkout", false, incident.MaxTitle, false)
	title.Element.(*slack.PlainTextInputBlockElement).InitialValue = p.Title
	msg := textInput(blockPubMessage, "Message to customers", "We are investigating elevated error rates on checkout. Next update within 30 minutes.", true, incident.MaxText, false)
	msg.Element.(*slack.PlainTextInputBlockElement).InitialValue = p.Message
	intro := fmt.Sprintf("*Public update for incident #%d.* Customers read exactly this on the status page: no names, notes or timeline go with it.", inc.Number)
	if cfg.Approval {
		intro += " It is a draft until the commander or comms (not you) approves it."
	}
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate(intro, maxSectionText)), nil, nil),
		title,
		slack.NewInputBlock(blockPubStatus, plainText("Status"), nil, status),
	}
	var compOpts []*slack.OptionBlockObject
	for _, s := range incident.ComponentStatuses {
		compOpts = append(compOpts, slack.NewOptionBlockObject(string(s), plainText(s.Label()), nil))
	}
	for i, c := range cfg.Components {
		if i == maxPublicComponents {
			break
		}
		id := blockPubComponent + strconv.Itoa(i)
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Not affected"), id, compOpts...)
		for _, ci := range p.Components {
			if ci.Name == c.Name {
				sel.InitialOption = findOption(compOpts, string(ci.Status))
			}
		}
		label := c.Name
		if c.Group != "" {
			label = c.Group + " › " + c.Name
		}
		in := slack.NewInputBlock(id, plainText(truncate(label, 2000)), nil, sel)
		in.Optional = true
		blocks = append(blocks, in)
	}
	blocks = append(blocks, msg)
	submit := "Publish"
	if cfg.Approval {
		submit = "Submit for approval"
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackPublish,
		Title:           plainText("Status page"),
		Submit:          plainText(submit),
		Close:           plainText("Cancel"),
		PrivateMetadata: meta.String(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// publication reads the publish form. A component left unset is not
// affected: it is not named in the update.
func (f formValues) publication(cfg incident.PublicConfig) incident.Publication {
	p := incident.Publication{
		Title:   f.text(blockPubTitle),
		Status:  incident.PublicStatus(f.option(blockPubStatus)),
		Message: f.text(blockPubMessage),
	}
	for i, c := range cfg.Components {
		if st := f.option(blockPubComponent + strconv.Itoa(i)); st != "" {
			p.Components = append(p.Components, incident.ComponentImpact{Name: c.Name, Status: incident.ComponentStatus(st)})
		}
	}
	return p
}

// publishFields maps the domain's fields to the form's blocks.
func publishFields(cfg incident.PublicConfig) map[string]string {
	m := map[string]string{"public title": blockPubTitle, "title": blockPubTitle, "public status": blockPubStatus, "public message": blockPubMessage}
	if len(cfg.Components) > 0 {
		m["components"] = blockPubComponent + "0"
	}
	return m
}

// publishRefusal says why incident inc cannot be published now, or "".
func (b *Bot) publishRefusal(inc *incident.Incident) string {
	cfg := b.svc.Config().Public
	switch {
	case !cfg.On:
		return "This installation has no status page: set SITREP_STATUS_ADDR to serve one (or STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID to mirror to Atlassian Statuspage), then publish."
	case inc.Private:
		return fmt.Sprintf("Incident #%d is private; private incidents are never published to the status page.", inc.Number)
	case inc.Drill:
		return fmt.Sprintf("Incident #%d is a drill; drills are never published to the status page.", inc.Number)
	case inc.Status == incident.Closed:
		return fmt.Sprintf("Incident #%d is closed, so its record is final and takes no more public updates.", inc.Number)
	}
	return ""
}

// publishCommand opens the publish form for incident number.
func (b *Bot) publishCommand(ctx context.Context, log *slog.Logger, number int64, sc slashCommand) reply {
	inc, err := b.svc.Get(ctx, number)
	if err != nil {
		return b.errorReply(ctx, log, Command{Name: "publish"}, err)
	}
	if why := b.publishRefusal(inc); why != "" {
		requestEnded(ctx, incident.EFORBIDDEN, "")
		return reply{Text: ":warning: " + why}
	}
	cfg := b.svc.Config().Public
	view := publishModal(inc, cfg, publishDefaults(inc, cfg), b.formMeta(callbackPublish, sc.UserID, sc.ChannelID, number, sc.ResponseURL))
	return b.openModal(ctx, log, sc, view, "publish")
}

// submitPublish handles the publish form: the update goes out, or with
// approval on becomes the draft posted in the channel.
func (b *Bot) submitPublish(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) *slack.ViewSubmissionResponse {
	meta, err := b.forms.open(cb.View.PrivateMetadata, callbackPublish, cb.User.ID)
	if err != nil || meta.Number == 0 {
		log.Warn("refused: publish form with metadata Sitrep did not seal for it", "err", err)
		requestEnded(ctx, incident.EFORBIDDEN, "")
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockPubMessage: formSealRefusal})
	}
	log = log.With("incident", meta.Number)
	requestIncident(ctx, meta.Number)
	inc, err := b.svc.Get(ctx, meta.Number)
	if err == nil {
		err = b.mayAct(ctx, log, cb.User.ID, inc)
	}
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		return b.formErrors(ctx, err, nil, blockPubMessage)
	}
	cfg := b.svc.Config().Public
	if _, err := b.svc.Publish(ctx, meta.Number, cb.User.ID, formValues(cb.View.State.Values).publication(cfg)); err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("publish from form", "err", err)
		}
		return b.formErrors(ctx, err, publishFields(cfg), blockPubMessage)
	}
	b.deliv.watch(meta.Number, slashCommand{UserID: cb.User.ID, ChannelID: meta.Channel, ResponseURL: meta.ResponseURL})
	return nil
}

// publicAction handles a draft's Approve and Edit buttons.
func (b *Bot) publicAction(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback, inc *shown, act *slack.BlockAction) {
	ns, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil {
		log.Warn("draft button with a bad value", "value", act.Value)
		b.tellInteraction(ctx, log, cb, ":warning: That button is damaged; use `"+b.opts.CommandName+" publish` to see the draft.")
		return
	}
	drafted := time.Unix(0, ns).UTC()
	actor := cb.User.ID
	if d := inc.Public.Draft; d == nil || !d.At.Equal(drafted) {
		b.tellInteraction(ctx, log, cb, fmt.Sprintf(":information_source: That draft of incident #%d is no longer waiting: it was approved or replaced. `%s publish` shows the latest.", inc.Number, b.opts.CommandName))
		return
	}
	if err := incident.MayApprove(inc.Incident, actor); err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		b.tellInteraction(ctx, log, cb, ":warning: "+b.errorText(err))
		return
	}
	switch act.ActionID {
	case actionPublicEdit:
		cfg := b.svc.Config().Public
		view := publishModal(inc.Incident, cfg, publishDefaults(inc.Incident, cfg), b.formMeta(callbackPublish, actor, inc.Chat.ChannelID, inc.Number, cb.ResponseURL))
		if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, view); err != nil {
			log.Error("open publish form", "err", err)
			b.tellInteraction(ctx, log, cb, ":warning: Slack would not open the form ("+describeSlackError(err)+"). Try again, or use `"+b.opts.CommandName+" publish`.")
		}
		return
	case actionPublicApprove:
		if _, err := b.svc.ApproveDraft(ctx, inc.Number, actor, drafted); err != nil {
			requestEnded(ctx, outcomeOf(err), "")
			if incident.ErrorCode(err) == incident.EINTERNAL {
				log.Error("approve public draft", "err", err)
			}
			b.tellInteraction(ctx, log, cb, ":warning: "+b.errorText(err))
			return
		}
		b.deliv.watch(inc.Number, slashCommand{UserID: actor, ChannelID: inc.Chat.ChannelID, ResponseURL: cb.ResponseURL})
	}
}

// publicSummary is one update as Slack shows it: title, status, components
// and message, escaped as the plain text it was typed as.
func publicSummary(title, status, components, message string) string {
	s := fmt.Sprintf("*%s* · %s", fromPlain(title), incident.PublicStatus(status).Label())
	if components != "" {
		var parts []string
		for _, c := range strings.Split(components, ", ") {
			if i := strings.LastIndex(c, "="); i >= 0 {
				c = c[:i] + ": " + incident.ComponentStatus(c[i+1:]).Label()
			}
			parts = append(parts, c)
		}
		s += "\n" + fromPlain(strings.Join(parts, " · "))
	}
	return s + "\n>" + strings.ReplaceAll(fromPlain(message), "\n", "\n>")
}

// publicDraftMessage is the channel message of a draft: what it says, and
// Approve and Edit for the commander or comms.
func publicDraftMessage(inc *incident.Incident, ev incident.Event) (string, []slack.Block) {
	text := fmt.Sprintf(":memo: %s drafted a public update for the status page. The commander or comms (not the author) approves it before customers see it:\n%s",
		actorText(ev), publicSummary(ev.Data["title"], ev.Data["status"], ev.Data["components"], ev.Text))
	text = truncate(text, maxSectionText)
	value := strconv.FormatInt(ev.At.UnixNano(), 10)
	approve := slack.NewButtonBlockElement(actionPublicApprove, value, plainText("Approve and publish"))
	approve.Style = slack.StylePrimary
	edit := slack.NewButtonBlockElement(actionPublicEdit, value, plainText("Edit"))
	return text, []slack.Block{
		slack.NewSectionBlock(mrkdwn(text), nil, nil),
		slack.NewActionBlock("public_draft."+value, approve, edit),
	}
}

// publicCardBlock is what the card shows of the status page: what the
// public sees now, with a link, and a draft waiting.
func publicCardBlock(inc *incident.Incident, cfg incident.PublicConfig) slack.Block {
	last, ok := inc.Public.Latest()
	if !ok && inc.Public.Draft == nil {
		return nil
	}
	var s string
	if ok {
		label := last.Status.Label()
		if cfg.URL != "" {
			label = fmt.Sprintf("<%s/incidents/%s|%s>", cfg.URL, inc.Public.ID, label)
		}
		s = fmt.Sprintf("*Status page* (what customers see) · %s · %s\n*%s*: %s", label, slackDate(last.At), fromPlain(last.Title), fromPlain(last.Message))
	} else {
		s = "*Status page* · nothing published yet"
	}
	if inc.Public.Draft != nil {
		s += "\n:memo: A draft awaits approval by the commander or comms."
	}
	return slack.NewSectionBlock(mrkdwn(truncate(s, maxSectionText)), nil, nil)
}

// publishOption is the value of the update form's checkbox that opens the
// publish form once the update is recorded.
const publishOption = "publish"

// updateForm is the update form, with the checkbox that goes on to publish
// when the incident may be published.
func (b *Bot) updateForm(inc *incident.Incident, meta modalMeta) slack.ModalViewRequest {
	view := updateModal(inc, meta)
	if b.publishRefusal(inc) != "" {
		return view
	}
	also := slack.NewCheckboxGroupsBlockElement(blockPubAlso,
		slack.NewOptionBlockObject(publishOption, plainText("Then publish to the status page"), plainText("Opens the public form, prefilled: nothing is public until you send it")))
	block := slack.NewInputBlock(blockPubAlso, plainText("Status page"), nil, also)
	block.Optional = true
	view.Blocks.BlockSet = append(view.Blocks.BlockSet, block)
	return view
}

// publishAfterUpdate is the answer to an update form whose checkbox asked
// to publish: the form becomes the publish form, its message prefilled with
// what the update said, for the person to reword for customers.
func (b *Bot) publishAfterUpdate(ctx context.Context, inc *incident.Incident, f formValues, meta modalMeta, user string) *slack.ViewSubmissionResponse {
	if !f.checked(blockPubAlso, publishOption) {
		return nil
	}
	fresh, err := b.svc.Get(ctx, inc.Number)
	if err != nil || b.publishRefusal(fresh) != "" {
		return nil // the update is recorded; publishing can be asked again
	}
	cfg := b.svc.Config().Public
	p := publishDefaults(fresh, cfg)
	if fresh.Public.Draft == nil {
		msg := strings.TrimSpace(f.text(blockKnow))
		if doing := strings.TrimSpace(f.text(blockDoing)); doing != "" {
			msg += "\n\n" + doing
		}
		p.Message = msg
	}
	view := publishModal(fresh, cfg, p, b.formMeta(callbackPublish, user, meta.Channel, fresh.Number, meta.ResponseURL))
	return slack.NewUpdateViewSubmissionResponse(&view)
}

// mustLatest is the latest published update of a page known to have one.
func mustLatest(inc *incident.Incident) incident.PublicUpdate {
	u, _ := inc.Public.Latest()
	return u
}

// publicResolution is the answer to a resolve form when the status page
// still shows the incident as ongoing: the form becomes the publish form,
// prefilled with the public resolution, so that customers hear it ended.
func (b *Bot) publicResolution(ctx context.Context, number int64, meta modalMeta, user string) *slack.ViewSubmissionResponse {
	inc, err := b.svc.Get(ctx, number)
	if err != nil || !inc.Public.PublicOpen() || b.publishRefusal(inc) != "" {
		return nil
	}
	cfg := b.svc.Config().Public
	view := publishModal(inc, cfg, publishDefaults(inc, cfg), b.formMeta(callbackPublish, user, meta.Channel, number, meta.ResponseURL))
	return slack.NewUpdateViewSubmissionResponse(&view)
}

// Notice tells an incident's channel, addressed to its commander, of
// trouble an integration needs a person for (a refused Statuspage key).
// It is best effort: the trouble stays recorded on the delivery and is
// retried whether or not this reaches anyone.
func (b *Bot) Notice(ctx context.Context, inc *incident.Incident, text string) {
	sh, err := b.show(ctx, inc)
	if err != nil || sh.Chat.ChannelID == "" {
		b.log.Warn("could not tell the incident's channel", "incident", inc.Number, "err", err)
		return
	}
	if c := inc.Commander(); c != "" {
		text = mention(c) + " " + text
	}
	if _, _, err := b.api.PostMessageContext(ctx, sh.Chat.ChannelID, slack.MsgOptionText(text, false)); err != nil {
		b.log.Warn("could not tell the incident's channel", "incident", inc.Number, "err", err)
	}
}
