package bot

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/internal/slacktext"
)

// The forms that gather the postmortem's input in Slack: the resolve form
// (summary, impact, affected services, root cause, what mitigated it) and
// the postmortem form (the review), each prefilled with what is recorded,
// so that running them again edits it.

// namesBudget bounds the time withNames asks Slack for names, and
// maxNamedMentions how many people a text names that it asks about.
const (
	namesBudget      = time.Second
	maxNamedMentions = 5
)

const (
	callbackResolve    = "resolve"
	callbackPostmortem = "postmortem"

	blockSummary      = "summary"
	blockRootCause    = "root_cause"
	blockMitigation   = "mitigation"
	blockContributing = "contributing"
	blockWentWell     = "went_well"
	blockWentBadly    = "went_badly"
	blockLearnings    = "learnings"
	blockRemediations = "remediations"
	blockReviewFlags  = "review_flags"

	flagFollowUps = "followups"
)

// reviewInput is one text input of the forms: the field it records, its
// block, label and example.
type reviewInput struct {
	field       incident.Field
	block       string
	label       string
	placeholder string
}

var (
	resolveInputs = []reviewInput{
		{incident.FieldImpact, blockImpact, "Impact: who and what was affected", "Card payments failed for about 30% of EU customers for 40 minutes"},
		{incident.FieldServices, blockServices, "Affected services", "checkout, payments-api (comma-separated)"},
		{incident.FieldRootCause, blockRootCause, "Root cause", "An expired TLS certificate on the payments load balancer"},
		{incident.FieldMitigation, blockMitigation, "What mitigated it", "Renewed the certificate and restarted the load balancer"},
	}
	reviewInputs = []reviewInput{
		{incident.FieldRootCause, blockRootCause, "Root cause", "An expired TLS certificate on the payments load balancer"},
		{incident.FieldContributing, blockContributing, "Contributing factors", "No alert on certificate expiry; renewal was manual"},
		{incident.FieldWentWell, blockWentWell, "What went well", "Paging reached the on-call engineer within a minute"},
		{incident.FieldWentBadly, blockWentBadly, "What went badly", "The status page was updated 20 minutes late"},
		{incident.FieldLearnings, blockLearnings, "Learnings (one per line)", "Certificates expire quietly"},
		{incident.FieldRemediations, blockRemediations, "Remediations (one per line)", "Alert 14 days before a certificate expires"},
	}
)

// reviewFields maps the domain's error fields to the forms' blocks.
var reviewFields = func() map[string]string {
	m := map[string]string{"summary": blockSummary}
	for _, in := range append(slices.Clone(resolveInputs), reviewInputs...) {
		m[in.field.Label()] = in.block
	}
	return m
}()

// mentionLabelRE, channelRE, linkRE and specialRE find the Slack markup a
// stored text may hold, for toPlain (and withNames).
var (
	mentionLabelRE = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|([^>]*))?>`)
	channelRE      = regexp.MustCompile(`<#C[A-Z0-9]+\|([^>]*)>`)
	linkRE         = regexp.MustCompile(`<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>`)
	specialRE      = regexp.MustCompile(`<!([a-z]+)(?:\|[^>]*)?>`)
)

// toPlain turns a stored text (Slack's markup) back into what a person
// would type in a form's plain text input, to prefill it: mentions as
// @name, links as their text and address, entities decoded. A prefilled
// text that comes back unchanged is not recorded again (changedEdits), so
// nothing typed as markup is lost by this.
func (b *Bot) toPlain(s string, maxLen int) string {
	s = mentionLabelRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := mentionLabelRE.FindStringSubmatch(m)
		if sub[2] != "" {
			return "@" + sub[2]
		}
		if n := b.names.known(sub[1]); n != "" {
			return "@" + n
		}
		return m
	})
	s = channelRE.ReplaceAllString(s, "#$1")
	s = linkRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := linkRE.FindStringSubmatch(m)
		if sub[2] == "" || sub[2] == sub[1] {
			return sub[1]
		}
		return sub[2] + " (" + sub[1] + ")"
	})
	s = specialRE.ReplaceAllString(s, "@$1")
	s = slacktext.Unescape(s)
	if utf8.RuneCountInString(s) > maxLen {
		s = string([]rune(s)[:maxLen])
	}
	return s
}

// reviewInputBlock is the input for in, prefilled with the incident's value.
func (b *Bot) reviewInputBlock(inc *incident.Incident, in reviewInput) *slack.InputBlock {
	block := textInput(in.block, in.label, in.placeholder, in.field != incident.FieldServices, in.maxLen(), true)
	block.Element.(*slack.PlainTextInputBlockElement).InitialValue = b.toPlain(inc.Field(in.field), in.maxLen())
	return block
}

// maxLen is the most the input takes: the declare form's for the
// services, a text's for the others.
func (in reviewInput) maxLen() int {
	if in.field == incident.FieldServices {
		return 500
	}
	return incident.MaxText
}

// resolveModal is the form /incident resolve opens when given no summary.
func (b *Bot) resolveModal(inc *incident.Incident, meta modalMeta) slack.ModalViewRequest {
	summary := textInput(blockSummary, "Summary: what happened, and how it ended", "Payments failed after a certificate expired; renewing it restored them", true, incident.MaxText, false)
	summary.Element.(*slack.PlainTextInputBlockElement).InitialValue = b.toPlain(inc.Summary, incident.MaxText)
	blocks := []slack.Block{
		slack.NewSectionBlock(mrkdwn(truncate("*"+displayTitle(inc)+"*", maxSectionText)), nil, nil),
		summary,
	}
	for _, in := range resolveInputs {
		blocks = append(blocks, b.reviewInputBlock(inc, in))
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackResolve,
		Title:           plainText(truncate(fmt.Sprintf("Resolve #%d", inc.Number), 24)),
		Submit:          plainText("Resolve"),
		Close:           plainText("Cancel"),
		PrivateMetadata: meta.String(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// postmortemModal is the form /incident postmortem opens: the review, then
// the postmortem is written and uploaded.
func (b *Bot) postmortemModal(inc *incident.Incident, meta modalMeta) slack.ModalViewRequest {
	intro := fmt.Sprintf("*%s*\nWhat you write here goes into the postmortem, with the timeline; Sitrep writes it and uploads it to the channel when you submit. Run `%s postmortem` again to edit it.",
		displayTitle(inc), b.opts.CommandName)
	submit := "Publish"
	if incident.IsDraft(inc) {
		intro += fmt.Sprintf("\n:construction: Incident #%d is %s, not resolved yet: this shares a *draft*. Publish again once it is resolved, to close it.", inc.Number, inc.Status)
		submit = "Share draft"
	}
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(truncate(intro, maxSectionText)), nil, nil)}
	for _, in := range reviewInputs {
		blocks = append(blocks, b.reviewInputBlock(inc, in))
	}
	flags := slack.NewCheckboxGroupsBlockElement(blockReviewFlags,
		slack.NewOptionBlockObject(flagFollowUps, plainText("Make each remediation a follow-up"), plainText("Lines that are follow-ups already are skipped")),
	)
	flagsBlock := slack.NewInputBlock(blockReviewFlags, plainText("Follow-ups"), nil, flags)
	flagsBlock.Optional = true
	blocks = append(blocks, flagsBlock)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackPostmortem,
		Title:           plainText(truncate(fmt.Sprintf("Postmortem #%d", inc.Number), 24)),
		Submit:          plainText(submit),
		Close:           plainText("Cancel"),
		PrivateMetadata: meta.String(),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// changedEdits reads the inputs of a form: an edit for each whose text is
// not what the form was prefilled with.
func (b *Bot) changedEdits(f formValues, inc *incident.Incident, inputs []reviewInput) []incident.Edit {
	var edits []incident.Edit
	for _, in := range inputs {
		if _, ok := f[in.block][in.block]; !ok {
			// Slack sends every input of the form, empty or not; one
			// that is missing was not sent, and clears nothing.
			continue
		}
		v := f.text(in.block)
		if strings.TrimSpace(v) == strings.TrimSpace(b.toPlain(inc.Field(in.field), in.maxLen())) {
			continue
		}
		edits = append(edits, incident.Edit{Field: in.field, Text: fromPlain(v)})
	}
	return edits
}

// formIncident checks a submitted form about an incident: sealed by
// Sitrep for this person and form, from its incident's channel, by someone
// who may act on it. It returns the incident, or the answer that refuses
// the form, with the error on block.
func (b *Bot) formIncident(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback, kind, block string) (*incident.Incident, modalMeta, *slack.ViewSubmissionResponse) {
	meta, err := b.forms.open(cb.View.PrivateMetadata, kind, cb.User.ID)
	if err != nil || meta.Number == 0 {
		log.Warn("refused: "+kind+" form with metadata Sitrep did not seal for it", "err", err)
		requestEnded(ctx, incident.EFORBIDDEN, "")
		return nil, meta, slack.NewErrorsViewSubmissionResponse(map[string]string{block: formSealRefusal})
	}
	requestIncident(ctx, meta.Number)
	inc, err := b.svc.Get(ctx, meta.Number)
	var sh *shown
	if err == nil {
		sh, err = b.show(ctx, inc)
	}
	if err == nil && sh.Chat.ChannelID != meta.Channel {
		log.Warn("refused: "+kind+" form opened outside its incident's channel", "channel", meta.Channel)
		err = incident.Errorf(incident.EFORBIDDEN, formSealRefusal)
	}
	if err == nil {
		err = b.mayAct(ctx, log, cb.User.ID, inc)
	}
	if err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error(kind+" form", "err", err)
		}
		return nil, meta, b.formErrors(ctx, err, nil, block)
	}
	return inc, meta, nil
}

// submitResolve handles the resolve form: the incident is resolved with
// its summary, impact, root cause and mitigation in one change.
func (b *Bot) submitResolve(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) *slack.ViewSubmissionResponse {
	inc, meta, refused := b.formIncident(ctx, log, cb, callbackResolve, blockSummary)
	if refused != nil {
		return refused
	}
	log = log.With("incident", inc.Number)
	f := formValues(cb.View.State.Values)
	if !inc.Status.Open() {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockSummary: fmt.Sprintf("Incident #%d was %s meanwhile. Edit what was recorded with \"%s postmortem\".", inc.Number, inc.Status, b.opts.CommandName)})
	}
	summary := strings.TrimSpace(f.text(blockSummary))
	if summary == "" {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockSummary: "Say what happened and how it ended, in a sentence or two: it heads the postmortem."})
	}
	if _, err := b.svc.Resolve(ctx, inc.Number, cb.User.ID, fromPlain(summary), b.changedEdits(f, inc, resolveInputs)...); err != nil {
		requestEnded(ctx, outcomeOf(err), "")
		if incident.ErrorCode(err) == incident.EINTERNAL {
			log.Error("resolve from form", "err", err)
		}
		return b.formErrors(ctx, err, reviewFields, blockSummary)
	}
	b.deliv.watch(inc.Number, slashCommand{UserID: cb.User.ID, ChannelID: meta.Channel, ResponseURL: meta.ResponseURL})
	return b.publicResolution(ctx, inc.Number, meta, cb.User.ID)
}

// submitPostmortem handles the postmortem form: it records what changed,
// then writes and uploads the postmortem.
func (b *Bot) submitPostmortem(ctx context.Context, log *slog.Logger, cb *slack.InteractionCallback) *slack.ViewSubmissionResponse {
	inc, meta, refused := b.formIncident(ctx, log, cb, callbackPostmortem, blockRootCause)
	if refused != nil {
		return refused
	}
	log = log.With("incident", inc.Number)
	f := formValues(cb.View.State.Values)
	r := incident.Review{Edits: b.changedEdits(f, inc, reviewInputs), RemediationFollowUps: f.checked(blockReviewFlags, flagFollowUps)}
	if len(r.Edits) > 0 || r.RemediationFollowUps {
		if _, err := b.svc.Record(ctx, inc.Number, cb.User.ID, r); err != nil {
			requestEnded(ctx, outcomeOf(err), "")
			if incident.ErrorCode(err) == incident.EINTERNAL {
				log.Error("review from form", "err", err)
			}
			return b.formErrors(ctx, err, reviewFields, blockRootCause)
		}
	}
	sc := slashCommand{UserID: cb.User.ID, ChannelID: meta.Channel, ResponseURL: meta.ResponseURL}
	n := inc.Number
	b.goAfterAck(ctx, func(ctx context.Context) { b.publishPostmortem(ctx, log, n, sc) })
	return nil
}

// postmortemCommand is /incident postmortem: the form, or, for a closed
// incident (whose record is final) or when Slack will not open the form,
// the postmortem of what is recorded at once.
func (b *Bot) postmortemCommand(ctx context.Context, log *slog.Logger, n int64, sc slashCommand) reply {
	inc, err := b.svc.Get(ctx, n)
	if err != nil {
		return b.errorReply(ctx, log, Command{Name: "postmortem"}, err)
	}
	publish := func(note string) reply {
		b.goAfterAck(ctx, func(ctx context.Context) { b.publishPostmortem(ctx, log, n, sc) })
		return reply{Text: note + fmt.Sprintf(":memo: Writing the postmortem of incident #%d from its timeline…", n)}
	}
	if inc.Status == incident.Closed {
		return publish("")
	}
	if _, err := b.api.OpenViewContext(ctx, sc.TriggerID, b.postmortemModal(inc, b.formMeta(callbackPostmortem, sc.UserID, sc.ChannelID, n, sc.ResponseURL))); err != nil {
		log.Warn("open postmortem form", "err", err)
		return publish(fmt.Sprintf(":warning: Slack would not open the postmortem form (%s), so the postmortem is written from what is recorded; add to it with `%s rootcause …` and `%s learning …`.\n",
			describeSlackError(err), b.opts.CommandName, b.opts.CommandName))
	}
	return reply{}
}

// resolveCommand is /incident resolve without a summary: the form.
func (b *Bot) resolveCommand(ctx context.Context, log *slog.Logger, n int64, sc slashCommand) reply {
	inc, err := b.svc.Get(ctx, n)
	if err != nil {
		return b.errorReply(ctx, log, Command{Name: "resolve"}, err)
	}
	if err := b.svc.Config().MayChange(inc, sc.UserID, "resolve"); err != nil {
		return b.errorReply(ctx, log, Command{Name: "resolve"}, err)
	}
	if !inc.Status.Open() {
		requestEnded(ctx, incident.ECONFLICT, "")
		return reply{Text: fmt.Sprintf(":warning: Incident #%d is already %s. Edit what was recorded with `%s postmortem`, or `%s reopen` it.", n, inc.Status, b.opts.CommandName, b.opts.CommandName)}
	}
	return b.openModal(ctx, log, sc, b.resolveModal(inc, b.formMeta(callbackResolve, sc.UserID, sc.ChannelID, n, sc.ResponseURL)), "resolve <summary>")
}

// withNames returns ctx with the names of users (and of the first people
// text mentions) known, so that what the request records keeps their
// names (incident.WithNames). It asks Slack for the names it does not know
// yet, within namesBudget: this runs before a request is answered, and a
// name Slack is slow to give is only missing from the record (the
// postmortem then asks Slack, or shows the ID).
func (b *Bot) withNames(ctx context.Context, text string, users ...string) context.Context {
	for _, m := range mentionLabelRE.FindAllStringSubmatch(text, maxNamedMentions) {
		users = append(users, m[1])
	}
	warm, cancel := context.WithTimeout(ctx, namesBudget)
	defer cancel()
	lookup := b.names.lookup(warm)
	for _, u := range users {
		if u != "" {
			lookup(u)
		}
	}
	return incident.WithNames(ctx, b.names.known)
}
