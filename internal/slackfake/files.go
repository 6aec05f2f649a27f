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
	length    int      // declared to files.getUploadURLExternal
	uploaded  bool     // bytes were posted to the upload_url
	completed bool     // files.completeUploadExternal succeeded
	channels  []string // where it was shared, Channel first
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

	now := s.clock()
	out := make([]result, 0, len(files))
	fileIDs := make([]string, 0, len(files))
	for i, f := range files {
		f.completed = true
		f.Title = list[i].Title
		if f.Title == "" {
			f.Title = f.Name
		}
		for _, ch := range chans {
			f.channels = append(f.channels, ch.id)
			ch.files = append(ch.files, f.ID)
		}
		if len(chans) > 0 {
			f.Channel = chans[0].id
			f.Shared = now
		}
		fileIDs = append(fileIDs, f.ID)
		out = append(out, result{"id": f.ID, "title": f.Title})
	}
	for _, ch := range chans {
		ch.addMessage(&message{Message: Message{
			TS:       s.nextTSLocked(),
			Channel:  ch.id,
			User:     DefaultBotUserID,
			BotID:    DefaultBotID,
			Subtype:  "file_share",
			Text:     text,
			Blocks:   slices.Clone(blocks),
			ThreadTS: r.get("thread_ts"),
			Files:    slices.Clone(fileIDs),
		}})
	}
	return success(result{"files": out})
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
