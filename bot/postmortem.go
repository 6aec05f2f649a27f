package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/incident"
	"github.com/sitrep-dev/sitrep/postmortem"
	"github.com/sitrep-dev/sitrep/templates"
)

// pendingUpload is a postmortem uploaded to Slack and not yet recorded as
// published, kept in the chat state so that a restart neither loses it nor
// uploads it again. The JSON names are stored.
//
// Slack's files.completeUploadExternal may answer ok before the file is in
// the channel: the share happens asynchronously and is confirmed by the
// file_shared event or by files.info listing the channel in the file's
// shares. Only then is the postmortem recorded as published, which is
// what lets the incident be closed.
type pendingUpload struct {
	FileID string `json:"file_id"`
	By     string `json:"by"` // who asked for it: the timeline's actor
	// Completing is set before files.completeUploadExternal is asked:
	// from then on Slack may share the file whatever Sitrep hears back,
	// so it is waited for, not uploaded again.
	Completing bool      `json:"completing"`
	Started    time.Time `json:"started"`
}

// staleUpload is how long an upload whose share Slack never confirmed
// holds back a new one. Slack shares within seconds; an upload not shown
// after this is taken as lost, and `postmortem` uploads anew.
const staleUpload = time.Hour

// Waiting for Slack to share an upload: files.info is asked at once and
// then after each of these waits (in real time: it is Slack that is
// waited for), within the request's jobTimeout. The file_shared event
// confirms a share that comes later.
var shareChecks = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 30 * time.Second}

// publishPostmortem renders incident n's postmortem from what was recorded,
// uploads it to the incident channel as incident-<n>-postmortem.md, and
// notes it on the timeline once Slack shows it there. Running it again
// uploads a new version, unless an upload is still waiting for Slack to
// share it: then it checks on that one.
func (b *Bot) publishPostmortem(ctx context.Context, log *slog.Logger, n int64, sc slashCommand) {
	mu, _ := b.publishing.LoadOrStore(n, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	fail := func(what string, err error) {
		log.Error("postmortem: "+what, "err", err)
		b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: The postmortem of incident #%d was not published: %s (%s%s). Nothing was changed; try again.", n, what, describeSlackError(err), needsAdmin(err))})
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
	if p := sh.Chat.Postmortem; p != nil {
		// An earlier upload is not recorded yet (Slack had not shown it,
		// or Sitrep stopped): check on it before uploading again.
		shared, err := b.shared(ctx, p.FileID, channel)
		switch {
		case err != nil && !isFinal(err):
			fail("Slack could not say whether the last upload is in the channel", err)
			return
		case shared:
			if b.postmortemShared(ctx, log, n, p.FileID, sc) {
				b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":white_check_mark: The postmortem of incident #%d uploaded %s is in the channel and recorded as published. Run `%s postmortem` again for a new version.",
					n, slackDate(p.Started), b.opts.CommandName)})
			}
			return
		case p.Completing && b.clock.Now().Sub(p.Started) < staleUpload:
			b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":hourglass: The postmortem of incident #%d uploaded %s is not in the channel yet: Slack shares uploads on its own time. Sitrep records it as published as soon as Slack shows it; run `%s postmortem` again in a minute to check.",
				n, slackDate(p.Started), b.opts.CommandName)})
			return
		}
		log.Warn("postmortem: an earlier upload was never shown in the channel; uploading anew", "file", p.FileID)
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
	fileID, err := b.upload(ctx, n, sc.UserID, slack.UploadFileParameters{
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
	for i := 0; ; i++ {
		shared, err := b.shared(ctx, fileID, channel)
		if err != nil {
			log.Warn("postmortem: could not check the upload's share", "file", fileID, "err", err)
		}
		if shared {
			b.postmortemShared(ctx, log, n, fileID, sc)
			return
		}
		if i == len(shareChecks) || ctx.Err() != nil {
			break
		}
		t := time.NewTimer(shareChecks[i])
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	if ctx.Err() != nil {
		// Shutting down: the upload is noted, and the file_shared event
		// or the next postmortem command records it.
		log.Info("postmortem: stopped waiting for Slack to share the upload", "file", fileID)
		return
	}
	b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":hourglass: The postmortem of incident #%d is uploaded, but Slack has not shown it in the channel yet. Sitrep records it as published as soon as Slack does; `%s postmortem` checks again.", n, b.opts.CommandName)})
}

// upload uploads a postmortem in Slack's three steps, noting the file in
// the chat state before completing it so that a restart waits for its
// share instead of uploading it again. Removed from a public incident
// channel, Sitrep joins it again and completes the upload there. It
// returns the file's ID once Slack accepted the upload.
func (b *Bot) upload(ctx context.Context, n int64, by string, p slack.UploadFileParameters) (string, error) {
	u, err := b.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: p.Filename, FileSize: p.FileSize})
	if err != nil {
		return "", fmt.Errorf("get an upload URL: %w", err)
	}
	pending := &pendingUpload{FileID: u.FileID, By: by, Started: b.clock.Now()}
	if err := b.setPendingUpload(ctx, n, pending); err != nil {
		return "", err
	}
	if err := b.api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: u.UploadURL, Content: p.Content, Filename: p.Filename}); err != nil {
		return "", fmt.Errorf("upload the file: %w", err)
	}
	pending.Completing = true
	if err := b.setPendingUpload(ctx, n, pending); err != nil {
		return "", err
	}
	complete := slack.CompleteUploadExternalParameters{Files: []slack.FileSummary{{ID: u.FileID, Title: p.Title}}, Channel: p.Channel, InitialComment: p.InitialComment}
	_, err = b.api.CompleteUploadExternalContext(ctx, complete)
	if slackError(err) == "not_in_channel" {
		// Removed from the channel: a public one is joined again (a
		// private one refuses, and that refusal is what people are told).
		if _, _, _, jerr := b.api.JoinConversationContext(ctx, p.Channel); jerr != nil {
			err = fmt.Errorf("join %s to share the postmortem there: %w", p.Channel, jerr)
		} else {
			_, err = b.api.CompleteUploadExternalContext(ctx, complete)
		}
	}
	if err != nil {
		if isFinal(err) {
			// Refused: Slack shares nothing, so nothing is waited for.
			if cerr := b.setPendingUpload(ctx, n, nil); cerr != nil {
				b.log.Warn("postmortem: could not forget a refused upload", "incident", n, "err", cerr)
			}
		}
		return "", fmt.Errorf("complete the upload: %w", err)
	}
	return u.FileID, nil
}

// setPendingUpload saves (or, with nil, clears) incident n's pending
// postmortem upload, with the incident's lock held so that a pass does not
// save over it.
func (b *Bot) setPendingUpload(ctx context.Context, n int64, p *pendingUpload) error {
	unlock, err := b.runner.Lock(ctx, integrationName, n)
	if err != nil {
		return err
	}
	defer unlock()
	sh, save, err := b.deliv.load(ctx, n)
	if err != nil {
		return err
	}
	sh.Chat.Postmortem = p
	return save()
}

// shared reports whether Slack shows the file in channel: whether
// files.info lists the channel in the file's shares.
func (b *Bot) shared(ctx context.Context, fileID, channel string) (bool, error) {
	f, _, _, err := b.api.GetFileInfoContext(ctx, fileID, 0, 0)
	if err != nil {
		return false, fmt.Errorf("files.info: %w", err)
	}
	return len(f.Shares.Public[channel]) > 0 || len(f.Shares.Private[channel]) > 0, nil
}

// postmortemShared records the postmortem in fileID as published, once.
// It is called when Slack shows the file in the channel: from files.info,
// or from the file_shared event (sc empty). It reports whether the
// postmortem is recorded (now or before); if not, sc's person is told.
func (b *Bot) postmortemShared(ctx context.Context, log *slog.Logger, n int64, fileID string, sc slashCommand) bool {
	recorded, err := b.recordShared(ctx, n, fileID)
	if err != nil {
		log.Error("record postmortem", "err", err)
		if sc.UserID != "" {
			b.tell(ctx, log, sc, reply{Text: fmt.Sprintf(":warning: The postmortem is in the channel, but noting it on the timeline failed (%s), so `%s close` will not see it yet. Run `%s postmortem` again: it records this upload rather than making another.", b.errorText(err), b.opts.CommandName, b.opts.CommandName)})
		}
		return false
	}
	if recorded && sc.UserID != "" {
		b.deliv.watch(n, sc)
	}
	return true
}

// recordShared records the pending upload fileID of incident n as the
// published postmortem and forgets it, once: it reports false if it was
// recorded already (by the file_shared event and files.info both, or
// before a crash between recording and forgetting it).
func (b *Bot) recordShared(ctx context.Context, n int64, fileID string) (bool, error) {
	unlock, err := b.runner.Lock(ctx, integrationName, n)
	if err != nil {
		return false, err
	}
	defer unlock()
	sh, save, err := b.deliv.load(ctx, n)
	if err != nil {
		return false, err
	}
	p := sh.Chat.Postmortem
	if p == nil || p.FileID != fileID {
		return false, nil
	}
	_, events, err := b.svc.Timeline(ctx, n)
	if err != nil {
		return false, err
	}
	done := false
	for _, ev := range events {
		if ev.Kind == incident.KindPostmortem && (ev.Source == fileLinkPrefix+fileID || strings.Contains(ev.Source, fileID)) {
			done = true
		}
	}
	if !done {
		// Shared now, so the message that shared it is in the channel:
		// record the file's link for the card, or its ID if Slack does
		// not show it.
		where := b.postmortemFileLink(ctx, sh.Chat.ChannelID, fileID)
		if where == "" {
			where = fileLinkPrefix + fileID
		}
		if _, err := b.svc.RecordPostmortem(ctx, n, p.By, where); err != nil {
			return false, err
		}
	}
	sh.Chat.Postmortem = nil
	return !done, save()
}

// fileShared handles Slack's file_shared event: a postmortem upload
// waiting for its share is recorded as published.
func (b *Bot) fileShared(ctx context.Context, log *slog.Logger, fileID, channel string) {
	inc, err := b.svc.ByRef(ctx, integrationName, channel)
	if incident.ErrorCode(err) == incident.ENOTFOUND {
		return // files shared elsewhere are none of Sitrep's business
	}
	if err != nil {
		log.Error("file_shared: find incident", "err", err)
		return
	}
	log = log.With("incident", inc.Number, "file", fileID)
	switch recorded, err := b.recordShared(ctx, inc.Number, fileID); {
	case err != nil:
		log.Error("record postmortem", "err", err)
	case recorded:
		log.Info("postmortem recorded as published: Slack shared it")
	default:
		log.Debug("file_shared: no postmortem upload waits for this file")
	}
}
