package slackfake

import (
	"context"
	"testing"

	"github.com/slack-go/slack"
)

// TestLateShares: with WithLateShares, files.completeUploadExternal
// answers ok while the file is not in the channel yet: no file_share
// message, no file in the channel, no share in files.info. FinishShares
// shares it, and the WithFileShared hook hears of it once.
func TestLateShares(t *testing.T) {
	heard := make(chan [2]string, 4)
	f := newFixture(t, WithLateShares(0), WithScopes(append(manifestScopes(), "files:read")...), WithFileShared(func(file, channel string) {
		heard <- [2]string{file, channel}
	}))
	ctx := context.Background()
	sum, err := f.api.UploadFileContext(ctx, slack.UploadFileParameters{Content: "# Postmortem", FileSize: 12, Filename: "pm.md", Title: "PM", Channel: f.ops})
	if err != nil {
		t.Fatal(err)
	}
	shares := func() (public map[string][]slack.ShareFileInfo) {
		t.Helper()
		file, _, _, err := f.api.GetFileInfoContext(ctx, sum.ID, 0, 0)
		if err != nil {
			t.Fatalf("files.info: %v", err)
		}
		return file.Shares.Public
	}
	if n := len(f.s.Files(f.ops)); n != 0 || len(shares()) != 0 {
		t.Fatalf("before the share: %d files in the channel, shares %v", n, shares())
	}
	for _, m := range f.s.Messages(f.ops) {
		if m.Subtype == "file_share" {
			t.Fatal("the file_share message is there before the share")
		}
	}
	if n := f.s.FinishShares(); n != 1 {
		t.Fatalf("FinishShares() = %d, want 1", n)
	}
	got := shares()[f.ops]
	if len(got) != 1 || got[0].Ts == "" || got[0].ChannelName != "ops" {
		t.Errorf("files.info shares in ops = %+v", got)
	}
	if n := len(f.s.Files(f.ops)); n != 1 {
		t.Errorf("%d files in the channel after the share, want 1", n)
	}
	if e := <-heard; e != [2]string{sum.ID, f.ops} {
		t.Errorf("hook heard %v, want %s in %s", e, sum.ID, f.ops)
	}
	if n := f.s.FinishShares(); n != 0 {
		t.Errorf("FinishShares() again = %d, want 0", n)
	}
}

// TestFilesInfo: files.info needs files:read (which the manifest may
// lack), answers file_not_found for an unknown file, and tells private
// shares from public ones.
func TestFilesInfo(t *testing.T) {
	f := newFixture(t, WithScopes(append(manifestScopes(), "files:read")...))
	ctx := context.Background()
	priv := f.s.AddChannel("priv", true, f.alice, f.s.BotUserID())
	sum, err := f.api.UploadFileContext(ctx, slack.UploadFileParameters{Content: "x", FileSize: 1, Filename: "x.md", Channel: priv})
	if err != nil {
		t.Fatal(err)
	}
	file, _, _, err := f.api.GetFileInfoContext(ctx, sum.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Shares.Private[priv]) != 1 || len(file.Shares.Public) != 0 {
		t.Errorf("shares = %+v, want one private share in %s", file.Shares, priv)
	}
	if _, _, _, err := f.api.GetFileInfoContext(ctx, "F0NOPE", 0, 0); err == nil || err.Error() != "file_not_found" {
		t.Errorf("unknown file: %v, want file_not_found", err)
	}
	noRead := newFixture(t, WithScopes("files:write", "chat:write"))
	if _, _, _, err := noRead.api.GetFileInfoContext(ctx, sum.ID, 0, 0); err == nil || err.Error() != "missing_scope" {
		t.Errorf("files.info without files:read: %v, want missing_scope", err)
	}
}
