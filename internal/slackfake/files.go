package slackfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// UploadMethod is the Call.Method of the byte uploads to the upload_url
// returned by files.getUploadURLExternal; it can also be passed to Fail.
// (files.upload itself, the retired one-step upload method, is not served:
// /api/files.upload answers unknown_method.) Slack's upload endpoint is not
// a Web API method and slack-go ignores its response body, so for it only an
// injected Status or Delay is visible to slack-go: a Failure with just Error
// answers HTTP 200, which slack-go takes as success.
const UploadMethod = "files.upload"

const (
	// uploadPath is where upload_urls point: uploadPath + file ID.
	uploadPath = "/upload/"
	// maxUploadSize caps what the upload endpoint reads (Slack's own limit
	// is 1 GB; tests have no business uploading that much).
	maxUploadSize = 64 << 20
	// maxAltTxt is the longest alt_txt files.getUploadURLExternal accepts.
	maxAltTxt = 1000
)

// File is a snapshot of a file uploaded through files.getUploadURLExternal,
// the upload_url and files.completeUploadExternal.
type File struct {
	ID      string
	Name    string // the filename given to files.getUploadURLExternal
	Title   string // the title given on completion; Name if none
	Channel string // the (first) channel it was shared in; "" if not shared
	User    string // the uploader (always the bot)
	Content []byte // the bytes posted to the upload_url; nil before that
	Shared  time.Time
}

// file is the internal state of an uploaded file.
type file struct {
	File
	length    int               // declared to files.getUploadURLExternal
	uploaded  bool              // bytes were posted to the upload_url
	completed bool              // files.completeUploadExternal succeeded
	channels  []string          // where it was shared, Channel first
	shareTS   map[string]string // the file_share message in each channel
	created   time.Time
}

func (f *file) snapshot() File {
	c := f.File
	c.Content = slices.Clone(f.Content)
	return c
}

// Files returns the files shared in a channel, oldest first. It returns nil
// for an unknown channel.
func (s *Server) Files(channelID string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channelID]
	if !ok {
		return nil
	}
	out := make([]File, 0, len(ch.files))
	for _, id := range ch.files {
		out = append(out, s.files[id].snapshot())
	}
	return out
}

// File returns a file by ID, whether or not its upload was completed.
func (s *Server) File(id string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok {
		return File{}, false
	}
	return f.snapshot(), true
}

func (s *Server) filesGetUploadURLExternal(r *request) result {
	name := r.get("filename")
	if name == "" {
		return invalidArguments("[ERROR] missing required field: filename")
	}
	lengthArg, ok := r.params["length"]
	if !ok || lengthArg == "" {
		return invalidArguments("[ERROR] missing required field: length")
	}
	length, err := strconv.Atoi(lengthArg)
	switch {
	case err != nil || length < 0:
		return invalidArguments("[ERROR] must be a non-negative integer [json-pointer:/length]")
	case length == 0:
		// Documented: "missing_argument ... Typically only occurs when
		// the length provided is 0."
		return apiErr("missing_argument")
	}
	if utf8.RuneCountInString(r.get("alt_txt")) > maxAltTxt {
		return apiErr("alt_txt_too_large")
	}
	s.nextFile++
	f := &file{
		File:    File{ID: fmt.Sprintf("F%08d", s.nextFile), Name: name, User: DefaultBotUserID},
		length:  length,
		created: s.clock(),
	}
	s.files[f.ID] = f
	return success(result{"upload_url": s.srv.URL + uploadPath + f.ID, "file_id": f.ID})
}

// handleUpload serves the upload_urls. It accepts the bytes either as a
// multipart/form-data body (what slack-go sends: one form file, field
// "file") or as the raw request body, as Slack does. It answers like Slack's
// upload endpoint: HTTP 200 with a text/plain "OK - <size>". The body is
// read before the call is recorded and any injected failure applied.
func (s *Server) handleUpload(w http.ResponseWriter, hr *http.Request) {
	id := strings.TrimPrefix(hr.URL.Path, uploadPath)
	content, params, parseErr := readUpload(hr)
	params["file_id"] = id
	token, _ := strings.CutPrefix(hr.Header.Get("Authorization"), "Bearer ")

	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: UploadMethod, Params: params, Token: strings.TrimSpace(token), At: s.clock()})
	f, failing := s.takeFailureLocked(UploadMethod)
	s.mu.Unlock()

	if failing && !injectFailure(w, hr, f) {
		return
	}
	if hr.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if parseErr != nil {
		http.Error(w, parseErr.Error(), http.StatusBadRequest)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	file := s.files[id]
	if file == nil || file.completed {
		// An unknown upload_url, or one whose upload was completed.
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	// A second post replaces the first, until the upload is completed.
	file.Content = content
	file.uploaded = true
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "OK - %d", len(content))
}

// readUpload reads the bytes of an upload, and the other form fields and the
// part's filename as parameters for the call log (plus "size", the number
// of bytes read).
func readUpload(hr *http.Request) (content []byte, params map[string]string, err error) {
	params = map[string]string{}
	body := http.MaxBytesReader(nil, hr.Body, maxUploadSize)
	ctype, ctParams, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if ctype != "multipart/form-data" {
		content, err = io.ReadAll(body)
		if content == nil {
			content = []byte{}
		}
		params["size"] = strconv.Itoa(len(content))
		return content, params, err
	}
	mr := multipart.NewReader(body, ctParams["boundary"])
	found := false
	for {
		part, perr := mr.NextPart()
		if errors.Is(perr, io.EOF) {
			break
		}
		if perr != nil {
			_, _ = io.Copy(io.Discard, body)
			return nil, params, perr
		}
		data, rerr := io.ReadAll(part)
		if rerr != nil {
			_, _ = io.Copy(io.Discard, body)
			return nil, params, rerr
		}
		if part.FileName() != "" && !found {
			found = true
			content = data
			params["filename"] = part.FileName()
			params["size"] = strconv.Itoa(len(data))
			continue
		}
		params[part.FormName()] = string(data)
	}
	if !found {
		return nil, params, errors.New("no file in the multipart body")
	}
	if content == nil {
		content = []byte{}
	}
	return content, params, nil
}

// fileSummary is an element of files.completeUploadExternal's "files".
type fileSummary struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

func (s *Server) filesCompleteUploadExternal(r *request) result {
	raw := r.get("files")
	if raw == "" {
		return invalidArguments("[ERROR] missing required field: files")
	}
	var list []fileSummary
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return invalidArguments("[ERROR] must be an array of objects [json-pointer:/files]")
	}
	if len(list) == 0 {
		return invalidArguments("[ERROR] must provide at least 1 items [json-pointer:/files]")
	}
	files := make([]*file, 0, len(list))
	for _, fs := range list {
		f := s.files[fs.ID]
		// Slack answers file_not_found for an unknown ID, for a file whose
		// bytes never reached the upload_url, and for a second completion.
		if f == nil || !f.uploaded || f.completed || slices.Contains(files, f) {
			return apiErr("file_not_found")
		}
		if len(f.Content) != f.length {
			// Slack's code for bytes that do not match the declared
			// length is not documented; invalid_arguments is a guess.
			return invalidArguments(fmt.Sprintf("[ERROR] file %s: uploaded %d bytes, length was %d", f.ID, len(f.Content), f.length))
		}
		files = append(files, f)
	}

	// channel_id, plus the comma-separated channels (slack-go sends the
	// latter for UploadFileParameters.Channels).
	var chans []*channel
	ids := []string{}
	if id := r.get("channel_id"); id != "" {
		ids = append(ids, id)
	}
	for _, id := range strings.Split(r.get("channels"), ",") {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		ch := s.channels[id]
		switch {
		case ch == nil || ch.private && !ch.isMember(DefaultBotUserID):
			return apiErr("channel_not_found")
		case ch.archived:
			return apiErr("is_archived")
		case !ch.isMember(DefaultBotUserID):
			return apiErr("not_in_channel")
		}
		chans = append(chans, ch)
	}

	text := r.get("initial_comment")
	if utf8.RuneCountInString(text) > maxTextLen {
		return apiErr("msg_too_long")
	}
	var blocks json.RawMessage
	if b := r.get("blocks"); text == "" && b != "" && b != "null" {
		// Slack ignores blocks when initial_comment is given.
		var bl []json.RawMessage
		if err := json.Unmarshal([]byte(b), &bl); err != nil {
			return apiErr("invalid_blocks_format")
		}
		if errs := ValidateBlocks(json.RawMessage(b)); len(errs) > 0 {
			return invalidBlocks(errs)
		}
		if len(bl) > 0 {
			blocks = json.RawMessage(b)
		}
	}

	out := make([]result, 0, len(files))
	sh := share{text: text, blocks: slices.Clone(blocks), threadTS: r.get("thread_ts")}
	for i, f := range files {
		f.completed = true
		f.Title = list[i].Title
		if f.Title == "" {
			f.Title = f.Name
		}
		sh.files = append(sh.files, f.ID)
		out = append(out, result{"id": f.ID, "title": f.Title})
	}
	for _, ch := range chans {
		sh.channels = append(sh.channels, ch.id)
	}
	if len(sh.channels) > 0 {
		if s.lateShares {
			s.pendingShares = append(s.pendingShares, sh)
			if s.shareDelay > 0 {
				s.shareTimers = append(s.shareTimers, time.AfterFunc(s.shareDelay, func() { s.FinishShares() }))
			}
		} else {
			s.shareLocked(sh)
		}
	}
	return success(result{"files": out})
}

// share is files.completeUploadExternal's sharing of files in channels,
// done at once or, with WithLateShares, later.
type share struct {
	files, channels []string
	text            string
	blocks          json.RawMessage
	threadTS        string
}

// shareLocked shares files in channels: a "file_share" message in each,
// the files listed in the channel and the channel in the files' shares.
// It queues a file_shared event per file and channel for the hook of
// WithFileShared.
func (s *Server) shareLocked(sh share) {
	now := s.clock()
	for _, id := range sh.channels {
		ch := s.channels[id]
		if ch == nil || ch.archived {
			continue // gone meanwhile: Slack drops the share
		}
		m := &message{Message: Message{
			TS:       s.nextTSLocked(),
			Channel:  ch.id,
			User:     DefaultBotUserID,
			BotID:    DefaultBotID,
			Subtype:  "file_share",
			Text:     sh.text,
			Blocks:   slices.Clone(sh.blocks),
			ThreadTS: sh.threadTS,
			Files:    slices.Clone(sh.files),
		}}
		ch.addMessage(m)
		for _, fid := range sh.files {
			f := s.files[fid]
			f.channels = append(f.channels, ch.id)
			if f.shareTS == nil {
				f.shareTS = map[string]string{}
			}
			f.shareTS[ch.id] = m.TS
			ch.files = append(ch.files, f.ID)
			if f.Channel == "" {
				f.Channel, f.Shared = ch.id, now
			}
			if s.onFileShared != nil {
				s.sharedEvents = append(s.sharedEvents, [2]string{f.ID, ch.id})
			}
		}
	}
}

// WithLateShares makes files.completeUploadExternal answer ok before the
// files are in their channels, as Slack may: the share (the file_share
// message, the file in Files and in files.info's shares) happens when the
// test calls FinishShares or, if after is positive, after that long.
func WithLateShares(after time.Duration) Option {
	return func(s *Server) { s.lateShares, s.shareDelay = true, after }
}

// WithFileShared sets a function called with a file and a channel each
// time a file is shared in a channel, outside the server's lock and on a
// goroutine of its own (Close waits for it): where a test or the
// playground delivers Slack's file_shared event to the app.
func WithFileShared(f func(fileID, channelID string)) Option {
	return func(s *Server) { s.onFileShared = f }
}

// FinishShares shares the files whose completed uploads are waiting to be
// shared (see WithLateShares), and reports how many shares it did.
func (s *Server) FinishShares() int {
	s.mu.Lock()
	pending := s.pendingShares
	s.pendingShares = nil
	for _, sh := range pending {
		s.shareLocked(sh)
	}
	s.mu.Unlock()
	s.deliverShared()
	return len(pending)
}

// deliverShared calls the WithFileShared hook for the shares done.
func (s *Server) deliverShared() {
	s.mu.Lock()
	events := s.sharedEvents
	s.sharedEvents = nil
	if s.closed || len(events) == 0 {
		s.mu.Unlock()
		return
	}
	s.socketWG.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.socketWG.Done()
		for _, e := range events {
			s.onFileShared(e[0], e[1])
		}
	}()
}

// filesInfo serves files.info: the file, with where it is shared.
func (s *Server) filesInfo(r *request) result {
	f := s.files[r.get("file")]
	if f == nil || !f.completed {
		return apiErr("file_not_found")
	}
	public, private := result{}, result{}
	var channels, groups []string
	for _, id := range f.channels {
		ch := s.channels[id]
		if ch == nil {
			continue
		}
		info := []result{{"reply_users": []string{}, "reply_users_count": 0, "reply_count": 0, "ts": f.shareTS[id], "channel_name": ch.name, "team_id": s.teamID, "share_user_id": f.User, "source": "UNKNOWN", "is_silent_share": false}}
		if ch.private {
			private[id] = info
			groups = append(groups, id)
		} else {
			public[id] = info
			channels = append(channels, id)
		}
	}
	file := s.fileJSON(f)
	file["shares"] = result{"public": public, "private": private}
	file["channels"] = nonNil(channels)
	file["groups"] = nonNil(groups)
	file["ims"] = []string{}
	return success(result{"file": file, "comments": []result{}, "response_metadata": result{"next_cursor": ""}})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// fileJSON renders a file object as Slack attaches it to a file_share
// message.
func (s *Server) fileJSON(f *file) result {
	public := false
	for _, id := range f.channels {
		if ch := s.channels[id]; ch != nil && !ch.private {
			public = true
		}
	}
	return result{
		"id":          f.ID,
		"created":     f.created.Unix(),
		"timestamp":   f.created.Unix(),
		"name":        f.Name,
		"title":       f.Title,
		"user":        f.User,
		"size":        len(f.Content),
		"mode":        "hosted",
		"is_external": false,
		"is_public":   public,
		"url_private": permalinkBase + "files/" + f.User + "/" + f.ID + "/" + f.Name,
		"permalink":   permalinkBase + "files/" + f.User + "/" + f.ID + "/" + strings.ReplaceAll(strings.ToLower(f.Name), " ", "_"),
		"channels":    slices.Clone(f.channels),
	}
}

// filesJSON renders the files of a file_share message.
func (s *Server) filesJSON(ids []string) []result {
	out := make([]result, 0, len(ids))
	for _, id := range ids {
		if f := s.files[id]; f != nil {
			out = append(out, s.fileJSON(f))
		}
	}
	return out
}
