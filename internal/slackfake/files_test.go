package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"
)

// upload uploads content through slack-go's UploadFileContext.
func (f *fixture) upload(t *testing.T, p slack.UploadFileParameters) (*slack.FileSummary, error) {
	t.Helper()
	return f.api.UploadFileContext(context.Background(), p)
}

func TestUploadFile(t *testing.T) {
	f := newFixture(t)
	content := []byte("line 1\nbinary \x00\xff\x01 tail\n")
	sum, err := f.upload(t, slack.UploadFileParameters{
		Reader:         bytes.NewReader(content),
		FileSize:       len(content),
		Filename:       "timeline.txt",
		Title:          "Incident timeline",
		InitialComment: "Timeline attached",
		Channel:        f.ops,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sum.ID, "F") || sum.Title != "Incident timeline" {
		t.Errorf("UploadFileContext() = %+v, want an F… ID and the title", sum)
	}

	want := File{
		ID:      sum.ID,
		Name:    "timeline.txt",
		Title:   "Incident timeline",
		Channel: f.ops,
		User:    f.s.BotUserID(),
		Content: content,
		Shared:  t0,
	}
	if diff := cmp.Diff([]File{want}, f.s.Files(f.ops)); diff != "" {
		t.Errorf("Files(ops) mismatch (-want +got):\n%s", diff)
	}
	got, ok := f.s.File(sum.ID)
	if !ok {
		t.Fatalf("File(%s) not found", sum.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("File() mismatch (-want +got):\n%s", diff)
	}
	got.Content[0] = 'X' // a copy
	if again, _ := f.s.File(sum.ID); !bytes.Equal(again.Content, content) {
		t.Errorf("File() returned the fake's own Content slice")
	}
	if got := f.s.Files(f.random); len(got) != 0 {
		t.Errorf("Files(random) = %v, want none", got)
	}

	msgs := f.s.Messages(f.ops)
	if len(msgs) != 1 {
		t.Fatalf("Messages(ops) = %+v, want one file_share message", msgs)
	}
	m := msgs[0]
	if m.Subtype != "file_share" || m.Text != "Timeline attached" || m.User != f.s.BotUserID() ||
		!cmp.Equal(m.Files, []string{sum.ID}) {
		t.Errorf("message = %+v, want a file_share by the bot with the comment and the file", m)
	}

	// conversations.history renders the files as Slack does.
	h, err := f.api.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: f.ops})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Messages) != 1 || len(h.Messages[0].Files) != 1 {
		t.Fatalf("history = %+v, want one message with one file", h.Messages)
	}
	hf := h.Messages[0].Files[0]
	if hf.ID != sum.ID || hf.Name != "timeline.txt" || hf.Title != "Incident timeline" || hf.Size != len(content) || !h.Messages[0].Upload {
		t.Errorf("history file = %+v, want the uploaded file", hf)
	}

	// What slack-go sent: the three calls, the upload as multipart.
	var methods []string
	for _, c := range f.s.Calls("")[:3] {
		methods = append(methods, c.Method)
	}
	if want := []string{"files.getUploadURLExternal", UploadMethod, "files.completeUploadExternal"}; !cmp.Equal(methods, want) {
		t.Errorf("calls = %v, want %v", methods, want)
	}
	get := f.s.Calls("files.getUploadURLExternal")[0]
	if get.Params["filename"] != "timeline.txt" || get.Params["length"] != strconv.Itoa(len(content)) || get.Token != f.s.BotToken() {
		t.Errorf("getUploadURLExternal call = %+v", get)
	}
	up := f.s.Calls(UploadMethod)[0]
	if up.Params["file_id"] != sum.ID || up.Params["filename"] != "timeline.txt" || up.Params["size"] != strconv.Itoa(len(content)) {
		t.Errorf("upload call = %+v", up)
	}
	done := f.s.Calls("files.completeUploadExternal")[0]
	if done.Params["files"] != `[{"id":"`+sum.ID+`","title":"Incident timeline"}]` || done.Params["channel_id"] != f.ops ||
		done.Params["initial_comment"] != "Timeline attached" {
		t.Errorf("completeUploadExternal call = %+v", done)
	}
}

func TestUploadFileResponses(t *testing.T) {
	f := newFixture(t)
	status, body := rawCall(t, http.MethodPost, f.s.URL()+"files.getUploadURLExternal",
		"application/x-www-form-urlencoded", f.s.BotToken(), "filename=a.txt&length=3")
	if status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	var got struct {
		OK        bool   `json:"ok"`
		UploadURL string `json:"upload_url"`
		FileID    string `json:"file_id"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	wantURL := strings.TrimSuffix(f.s.URL(), "/api/") + "/upload/" + got.FileID
	if !got.OK || got.UploadURL != wantURL || !strings.HasPrefix(got.FileID, "F") {
		t.Fatalf("getUploadURLExternal = %s, want upload_url %s", body, wantURL)
	}

	// A raw (non-multipart) body is accepted too, and answered in text.
	status, body = rawCall(t, http.MethodPost, got.UploadURL, "application/octet-stream", "", "abc")
	if status != http.StatusOK || body != "OK - 3" {
		t.Errorf("upload = %d %q, want 200 %q", status, body, "OK - 3")
	}
	status, _ = rawCall(t, http.MethodPost, strings.TrimSuffix(got.UploadURL, got.FileID)+"F404", "application/octet-stream", "", "abc")
	if status != http.StatusNotFound {
		t.Errorf("upload to an unknown URL = %d, want 404", status)
	}

	form := url.Values{"files": {`[{"id":"` + got.FileID + `"}]`}, "channel_id": {f.ops}}.Encode()
	_, body = rawCall(t, http.MethodPost, f.s.URL()+"files.completeUploadExternal", "application/x-www-form-urlencoded", f.s.BotToken(), form)
	if want := `{"files":[{"id":"` + got.FileID + `","title":"a.txt"}],"ok":true}`; body != want {
		t.Errorf("completeUploadExternal = %s, want %s", body, want)
	}
	if file, _ := f.s.File(got.FileID); string(file.Content) != "abc" || file.Title != "a.txt" {
		t.Errorf("File() = %+v, want content abc titled by its name", file)
	}
	// The upload URL is spent once the upload is completed.
	status, _ = rawCall(t, http.MethodPost, got.UploadURL, "application/octet-stream", "", "abc")
	if status != http.StatusNotFound {
		t.Errorf("upload after completion = %d, want 404", status)
	}
}

func TestGetUploadURLExternalErrors(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		form, want string
	}{
		{"length=3", `{"error":"invalid_arguments","ok":false,"response_metadata":{"messages":["[ERROR] missing required field: filename"]}}`},
		{"filename=a.txt", `{"error":"invalid_arguments","ok":false,"response_metadata":{"messages":["[ERROR] missing required field: length"]}}`},
		{"filename=a.txt&length=-1", `{"error":"invalid_arguments","ok":false,"response_metadata":{"messages":["[ERROR] must be a non-negative integer [json-pointer:/length]"]}}`},
		{"filename=a.txt&length=x", `{"error":"invalid_arguments","ok":false,"response_metadata":{"messages":["[ERROR] must be a non-negative integer [json-pointer:/length]"]}}`},
		{"filename=a.txt&length=0", `{"error":"missing_argument","ok":false}`},
		{"filename=a.txt&length=3&alt_txt=" + strings.Repeat("a", 1001), `{"error":"alt_txt_too_large","ok":false}`},
	} {
		_, body := rawCall(t, http.MethodPost, f.s.URL()+"files.getUploadURLExternal", "application/x-www-form-urlencoded", f.s.BotToken(), tt.form)
		if body != tt.want {
			t.Errorf("getUploadURLExternal(%.40s) = %s, want %s", tt.form, body, tt.want)
		}
	}
}

func TestUploadFileVersions(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for _, v := range []string{"v1", "version 2"} {
		sum, err := f.upload(t, slack.UploadFileParameters{
			Content: v, FileSize: len(v), Filename: "report.md", Channel: f.ops,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sum.ID)
	}
	if ids[0] == ids[1] {
		t.Fatalf("both uploads got file ID %s", ids[0])
	}
	files := f.s.Files(f.ops)
	if len(files) != 2 {
		t.Fatalf("Files(ops) = %+v, want two files", files)
	}
	for i, want := range []string{"v1", "version 2"} {
		if files[i].ID != ids[i] || files[i].Name != "report.md" || string(files[i].Content) != want {
			t.Errorf("Files(ops)[%d] = %+v, want %s with %q", i, files[i], ids[i], want)
		}
	}
	if msgs := f.s.Messages(f.ops); len(msgs) != 2 || msgs[1].Files[0] != ids[1] {
		t.Errorf("Messages(ops) = %+v, want one file_share per upload", msgs)
	}
}

func TestUploadFileChannelErrors(t *testing.T) {
	f := newFixture(t)
	archived := f.s.AddChannel("old-incident", false, f.s.BotUserID())
	if err := f.api.ArchiveConversation(archived); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, channel, want string
	}{
		{"not a member", f.random, "not_in_channel"},
		{"private, not a member", f.secret, "channel_not_found"},
		{"unknown", "C404", "channel_not_found"},
		{"archived", archived, "is_archived"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.upload(t, slack.UploadFileParameters{Content: "x", FileSize: 1, Filename: "x.txt", Channel: tt.channel})
			if got := slackErr(t, err); got != tt.want {
				t.Errorf("UploadFileContext() error = %q, want %q", got, tt.want)
			}
			if got := f.s.Files(tt.channel); len(got) != 0 {
				t.Errorf("Files() = %+v, want none", got)
			}
		})
	}
	if msgs := f.s.Messages(f.random); len(msgs) != 0 {
		t.Errorf("Messages(random) = %+v, want none", msgs)
	}
}

func TestCompleteUploadExternal(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	start := func(t *testing.T, size int) *slack.GetUploadURLExternalResponse {
		t.Helper()
		u, err := f.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "a.log", FileSize: size})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	send := func(t *testing.T, u *slack.GetUploadURLExternalResponse, content string) {
		t.Helper()
		if err := f.api.UploadToURL(ctx, slack.UploadToURLParameters{UploadURL: u.UploadURL, Content: content, Filename: "a.log"}); err != nil {
			t.Fatal(err)
		}
	}
	complete := func(id, channel string) error {
		_, err := f.api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
			Files: []slack.FileSummary{{ID: id}}, Channel: channel,
		})
		return err
	}

	t.Run("twice", func(t *testing.T) {
		u := start(t, 4)
		send(t, u, "data")
		if err := complete(u.FileID, f.ops); err != nil {
			t.Fatal(err)
		}
		if got := slackErr(t, complete(u.FileID, f.ops)); got != "file_not_found" {
			t.Errorf("second completion error = %q, want file_not_found", got)
		}
		if n := len(f.s.Files(f.ops)); n != 1 {
			t.Errorf("Files(ops) has %d files, want 1", n)
		}
	})
	t.Run("not uploaded", func(t *testing.T) {
		u := start(t, 4)
		if got := slackErr(t, complete(u.FileID, f.ops)); got != "file_not_found" {
			t.Errorf("error = %q, want file_not_found", got)
		}
	})
	t.Run("unknown file", func(t *testing.T) {
		if got := slackErr(t, complete("F404", f.ops)); got != "file_not_found" {
			t.Errorf("error = %q, want file_not_found", got)
		}
	})
	t.Run("length mismatch", func(t *testing.T) {
		u := start(t, 10)
		send(t, u, "short")
		if got := slackErr(t, complete(u.FileID, f.ops)); got != "invalid_arguments" {
			t.Errorf("error = %q, want invalid_arguments", got)
		}
	})
	t.Run("retry after a channel error", func(t *testing.T) {
		u := start(t, 2)
		send(t, u, "ok")
		if got := slackErr(t, complete(u.FileID, f.random)); got != "not_in_channel" {
			t.Fatalf("error = %q, want not_in_channel", got)
		}
		if err := complete(u.FileID, f.ops); err != nil {
			t.Fatalf("completion after a failed one: %v", err)
		}
	})
	t.Run("no channel", func(t *testing.T) {
		u := start(t, 2)
		send(t, u, "hi")
		before := len(f.s.Messages(f.ops))
		if err := complete(u.FileID, ""); err != nil {
			t.Fatal(err)
		}
		file, _ := f.s.File(u.FileID)
		if file.Channel != "" || !file.Shared.IsZero() || string(file.Content) != "hi" {
			t.Errorf("File() = %+v, want a private, unshared file", file)
		}
		if n := len(f.s.Messages(f.ops)); n != before {
			t.Errorf("a private file posted a message")
		}
	})
	t.Run("thread", func(t *testing.T) {
		parent := f.s.AddMessage(f.ops, f.alice, "SEV2 declared")
		_, err := f.upload(t, slack.UploadFileParameters{Content: "x", FileSize: 1, Filename: "x.txt", Channel: f.ops, ThreadTimestamp: parent})
		if err != nil {
			t.Fatal(err)
		}
		msgs := f.s.Messages(f.ops)
		if last := msgs[len(msgs)-1]; last.Subtype != "file_share" || last.ThreadTS != parent {
			t.Errorf("last message = %+v, want a file_share reply to %s", last, parent)
		}
	})
}

func TestUploadFileFailures(t *testing.T) {
	t.Run("rate limited completion", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("files.completeUploadExternal", Failure{Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second, Times: 1})
		_, err := f.upload(t, slack.UploadFileParameters{Content: "x", FileSize: 1, Filename: "x.txt", Channel: f.ops})
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second {
			t.Fatalf("UploadFileContext() error = %#v, want *slack.RateLimitedError after 3s", err)
		}
		if n := len(f.s.Files(f.ops)); n != 0 {
			t.Errorf("Files(ops) has %d files, want 0", n)
		}
		// The failure was used up: completing the uploaded file now works.
		up := f.s.Calls(UploadMethod)
		if _, err := f.api.CompleteUploadExternalContext(context.Background(), slack.CompleteUploadExternalParameters{
			Files: []slack.FileSummary{{ID: up[0].Params["file_id"]}}, Channel: f.ops,
		}); err != nil {
			t.Fatal(err)
		}
		if n := len(f.s.Files(f.ops)); n != 1 {
			t.Errorf("Files(ops) has %d files, want 1", n)
		}
	})
	t.Run("upload", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail(UploadMethod, Failure{Status: http.StatusInternalServerError, Times: 1})
		_, err := f.upload(t, slack.UploadFileParameters{Content: "x", FileSize: 1, Filename: "x.txt", Channel: f.ops})
		var sc slack.StatusCodeError
		if !errors.As(err, &sc) || sc.Code != http.StatusInternalServerError {
			t.Fatalf("UploadFileContext() error = %#v, want StatusCodeError 500", err)
		}
		if calls := f.s.Calls("files.completeUploadExternal"); len(calls) != 0 {
			t.Errorf("completeUploadExternal called after a failed upload")
		}
	})
	t.Run("getUploadURLExternal", func(t *testing.T) {
		f := newFixture(t)
		f.s.Fail("files.getUploadURLExternal", Failure{Error: "file_uploads_disabled", Times: 1})
		_, err := f.upload(t, slack.UploadFileParameters{Content: "x", FileSize: 1, Filename: "x.txt", Channel: f.ops})
		if got := slackErr(t, err); got != "file_uploads_disabled" {
			t.Errorf("error = %q, want file_uploads_disabled", got)
		}
	})
}
