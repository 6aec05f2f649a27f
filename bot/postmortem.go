package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

// publishPostmortem renders incident n's postmortem from what was recorded,
// uploads it to the incident channel as incident-<n>-postmortem.md, and
// notes it on the timeline. Running it again uploads a new version.
func (b *Bot) publishPostmortem(ctx context.Context, log *slog.Logger, n int64, sc slashCommand) {
	fail := func(what string, err error) {
		log.Error("postmortem: "+what, "err", err)
		b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: The postmortem of incident #%d was not published: %s (%s). Nothing was changed; try again.", n, what, describeSlackError(err))})
	}
	tmpl, err := templates.Postmortem(b.opts.TemplatesDir)
	if err != nil {
		log.Error("postmortem template", "err", err)
		b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: The postmortem template does not work: %v", err)})
		return
	}
	doc, err := postmortem.Write(ctx, b.svc, n, postmortem.Options{Template: tmpl, TimeZone: b.opts.TimeZone, Name: b.names.lookup(ctx)})
	var te *postmortem.TemplateError
	switch {
	case errors.As(err, &te):
		log.Error("render postmortem", "err", err)
		b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: The postmortem template failed on this incident: %v", err)})
		return
	case err != nil:
		fail("reading the timeline failed", err)
		return
	}
	inc := doc.Incident
	sh, err := b.show(ctx, inc)
	if err != nil {
		fail("reading its Slack state failed", err)
		return
	}
	channel := sh.Chat.ChannelID
	if channel == "" {
		b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: Incident #%d has no channel yet to publish its postmortem in; try again once it has.", n)})
		return
	}
	summary := fmt.Sprintf(":memo: Postmortem of incident #%d, written from %d timeline entries", n, doc.Entries)
	if d := doc.View.Duration; d != nil {
		summary += fmt.Sprintf("; it lasted %s", postmortem.Duration(*d))
	}
	summary += fmt.Sprintf(". Review it, then `%s close`.", b.opts.CommandName)
	name := fmt.Sprintf("incident-%d-postmortem.md", n)
	if incident.IsDraft(inc) {
		summary = fmt.Sprintf(":construction: *Draft* postmortem of incident #%d, written from %d timeline entries while it is %s. Once it is resolved, `%s postmortem` again to publish it.",
			n, doc.Entries, inc.Status, b.opts.CommandName)
		name = fmt.Sprintf("incident-%d-postmortem-draft.md", n)
	}
	file, err := b.api.UploadFileContext(ctx, slack.UploadFileParameters{
		Channel:        channel,
		Filename:       name,
		Title:          doc.Title(),
		Content:        string(doc.Markdown),
		FileSize:       len(doc.Markdown),
		InitialComment: summary,
	})
	if err != nil {
		fail("Slack refused the upload", err)
		return
	}
	where := b.postmortemFileLink(ctx, channel, file.ID)
	if where == "" {
		where = fileLinkPrefix + file.ID
	}
	if _, err := b.svc.RecordPostmortem(ctx, n, sc.UserID, where); err != nil {
		log.Error("record postmortem", "err", err)
		b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: The postmortem was uploaded, but noting it on the timeline failed (%s), so `%s close` will not see it yet. Run `%s postmortem` again.", b.errorText(err), b.opts.CommandName, b.opts.CommandName)})
		return
	}
	b.deliv.watch(n, sc)
}
