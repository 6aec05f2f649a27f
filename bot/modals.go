package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
)

// Callback IDs of Sitrep's modals, and the IDs of their input blocks. Each
// input block holds one element whose action_id is the block's ID.
const (
	callbackDeclare = "declare"
	callbackUpdate  = "update"

	blockTitle    = "title"
	blockSeverity = "severity"
	blockImpact   = "impact"
	blockServices = "services"
	blockFlags    = "flags"
	blockStatus   = "status"
	blockKnow     = "know"
	blockDoing    = "doing"
	blockNext     = "next"

	flagPrivate = "private"
	flagDrill   = "drill"
)

// modalMeta travels in a modal's private_metadata: what the form is for,
// who it was opened for and where, so the answer can be sent there. It is
// sealed (formseal.go): the submission may carry anything.
type modalMeta struct {
	Kind    string `json:"k"` // the form's callback ID
	User    string `json:"u"` // who it was opened for
	Channel string `json:"c"`
	Number  int64  `json:"n,omitempty"`
	// ResponseURL answers the person even where Sitrep cannot post (a DM,
	// a private channel it is not in); it stays valid for 30 minutes.
	ResponseURL string `json:"r,omitempty"`
	Seal        string `json:"s,omitempty"`
}

func (m modalMeta) String() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// formMeta returns the sealed metadata of a form of kind opened for user
// in channel, about incident number (0 for none).
func (b *Bot) formMeta(kind, user, channel string, number int64, responseURL string) modalMeta {
	return b.forms.seal(modalMeta{Kind: kind, User: user, Channel: channel, Number: number, ResponseURL: responseURL})
}

func parseMeta(s string) (modalMeta, error) {
	var m modalMeta
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, fmt.Errorf("private_metadata: %w", err)
	}
	return m, nil
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func textInput(block, label, placeholder string, multiline bool, maxLen int, optional bool) *slack.InputBlock {
	el := slack.NewPlainTextInputBlockElement(plainText(placeholder), block)
	el.Multiline = multiline
	el.MaxLength = maxLen
	in := slack.NewInputBlock(block, plainText(label), nil, el)
	in.Optional = optional
	return in
}

// severityOptions lists the severities, each with its description as Slack
// shows it under the option.
func severityOptions(cfg incident.Config) []*slack.OptionBlockObject {
	opts := make([]*slack.OptionBlockObject, len(cfg.Severities))
	for i, s := range cfg.Severities {
		var desc *slack.TextBlockObject
		if s.Description != "" {
			desc = plainText(truncate(s.Description, 75))
		}
		opts[i] = slack.NewOptionBlockObject(s.Name, plainText(s.Name), desc)
	}
	return opts
}

func findOption(opts []*slack.OptionBlockObject, value string) *slack.OptionBlockObject {
	for _, o := range opts {
		if o.Value == value {
			return o
		}
	}
	return nil
}

// declareModal is the form /incident declare opens when given no title.
func declareModal(cfg incident.Config, severity string, meta modalMeta) slack.ModalViewRequest {
	if severity == "" {
		severity = cfg.DefaultSeverity
	}
	opts := severityOptions(cfg)
	sev := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Pick a severity"), blockSeverity, opts...)
	sev.InitialOption = findOption(opts, severity)
	flags := slack.NewCheckboxGroupsBlockElement(blockFlags,
		slack.NewOptionBlockObject(flagPrivate, plainText("Private"), plainText("A private channel, never announced")),
		slack.NewOptionBlockObject(flagDrill, plainText("Drill"), plainText("A practice incident, marked as such")),
	)
	flagsBlock := slack.NewInputBlock(blockFlags, plainText("Options"), nil, flags)
	flagsBlock.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackDeclare,
		Title:           plainText("Declare an incident"),
		Submit:          plainText("Declare"),
		Close:           plainText("Cancel"),
		PrivateMetadata: meta.String(),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			textInput(blockTitle, "Title", "Checkout failing for EU users", false, incident.MaxTitle, false),
			slack.NewInputBlock(blockSeverity, plainText("Severity"), nil, sev),
			textInput(blockImpact, "What is happening, and who is affected?", "Payments fail with a 502 for about 30% of EU customers", true, incident.MaxText, true),
			textInput(blockServices, "Affected services", "checkout, payments-api (comma-separated)", false, 500, true),
			flagsBlock,
		}},
	}
}

// formValues reads a view submission's state: block ID → the one action
// in it.
type formValues map[string]map[string]slack.BlockAction

func (f formValues) text(block string) string { return f[block][block].Value }
func (f formValues) option(block string) string {
	return f[block][block].SelectedOption.Value
}
func (f formValues) checked(block, value string) bool {
	for _, o := range f[block][block].SelectedOptions {
		if o.Value == value {
			return true
		}
	}
	return false
}

// fromPlain brings text typed into a form, which Slack sends as typed, to
// the mrkdwn form every stored text has (see text.go).
func fromPlain(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// declaration reads the declare form.
func (f formValues) declaration(actor string) incident.Declaration {
	var services []string
	for _, s := range strings.Split(f.text(blockServices), ",") {
		services = append(services, fromPlain(s))
	}
	return incident.Declaration{
		Title:    fromPlain(f.text(blockTitle)),
		Severity: f.option(blockSeverity),
		Actor:    actor,
		Impact:   fromPlain(f.text(blockImpact)),
		Services: services,
		Private:  f.checked(blockFlags, flagPrivate),
		Drill:    f.checked(blockFlags, flagDrill),
	}
}

// nextUpdateChoices are the "next update in" options of the update form.
var nextUpdateChoices = []struct{ value, label string }{
	{"15m", "15 minutes"}, {"30m", "30 minutes"}, {"1h", "1 hour"}, {"2h", "2 hours"}, {"4h", "4 hours"},
}

// updateModal is the form for a status update on incident inc.
func updateModal(inc *incident.Incident, meta modalMeta) slack.ModalViewRequest {
	var statusOpts []*slack.OptionBlockObject
	for _, s := range []incident.Status{incident.Investigating, incident.Identified, incident.Monitoring} {
		statusOpts = append(statusOpts, slack.NewOptionBlockObject(string(s), plainText(string(s)), nil))
	}
	status := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Status"), blockStatus, statusOpts...)
	status.InitialOption = findOption(statusOpts, string(inc.Status))
	var nextOpts []*slack.OptionBlockObject
	for _, c := range nextUpdateChoices {
		nextOpts = append(nextOpts, slack.NewOptionBlockObject(c.value, plainText(c.label), nil))
	}
	next := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Pick a time"), blockNext, nextOpts...)
	nextBlock := slack.NewInputBlock(blockNext, plainText("Next update in"), nil, next)
	nextBlock.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackUpdate,
		Title:           plainText(truncate(fmt.Sprintf("Update #%d", inc.Number), 24)),
		Submit:          plainText("Post update"),
		Close:           plainText("Cancel"),
		PrivateMetadata: meta.String(),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn(truncate("*"+displayTitle(inc)+"*", maxSectionText)), nil, nil),
			slack.NewInputBlock(blockStatus, plainText("Status"), nil, status),
			textInput(blockKnow, "What we know", "Error rate on checkout is 30%; a config change at 02:55 is suspected", true, 1400, false),
			textInput(blockDoing, "What we are doing", "Rolling back the config change", true, 1400, true),
			nextBlock,
		}},
	}
}

// nextUpdate is the form's "next update in", zero when none was chosen
// (the severity's cadence then sets the next prompt). Only the form's own
// choices are taken.
func (f formValues) nextUpdate() time.Duration {
	next := f.option(blockNext)
	for _, c := range nextUpdateChoices {
		if c.value == next {
			d, _ := time.ParseDuration(c.value)
			return d
		}
	}
	return 0
}

// updateText composes the status update from the form.
func (f formValues) updateText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "*What we know:* %s", fromPlain(strings.TrimSpace(f.text(blockKnow))))
	if doing := strings.TrimSpace(f.text(blockDoing)); doing != "" {
		fmt.Fprintf(&b, "\n*What we are doing:* %s", fromPlain(doing))
	}
	next := f.option(blockNext)
	for _, c := range nextUpdateChoices {
		if c.value == next {
			fmt.Fprintf(&b, "\n*Next update:* in %s", c.label)
		}
	}
	return b.String()
}

// declareFields maps domain error fields to the declare form's blocks.
var declareFields = map[string]string{"title": blockTitle, "severity": blockSeverity, "impact": blockImpact, "affected services": blockServices}

// formErrors shows a domain error next to the input at fault, or on
// fallback when no input is. A form shows plain text, so actions are
// named as typed, without formatting, and people by their names.
func (b *Bot) formErrors(ctx context.Context, err error, fields map[string]string, fallback string) *slack.ViewSubmissionResponse {
	block, ok := fields[incident.ErrorField(err)]
	if !ok {
		block = fallback
	}
	text := incident.ErrorMessage(err)
	var e *incident.Error
	if errors.As(err, &e) {
		name := b.names.lookup(ctx)
		text = e.Text(func(users []string) string {
			named := make([]string, len(users))
			for i, u := range users {
				named[i] = name(u)
			}
			return strings.Join(named, ", ")
		}, func(action string) string { return "\"" + b.opts.CommandName + " " + action + "\"" })
	}
	return slack.NewErrorsViewSubmissionResponse(map[string]string{block: text})
}
